using Azure.Data.Tables;
using System.Globalization;
using Loyalty.Domain.Common;
using Loyalty.Domain.Ledger;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Notifications;
using Loyalty.Functions.Programme;
using Loyalty.Storage.Ledger;
using Loyalty.Storage.Org;
using Loyalty.Storage.Members;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Ledger;

/// <summary>What one run of points expiry did.</summary>
internal sealed record PointsExpiryRun(int MembersExpired, long PointsExpired, int Reminded);

/// <summary>
/// Points expiry: writes an <c>expiry</c> ledger entry for the points of each member's earning months that have reached
/// the end of their validity (oldest first, through the member transaction, keyed by member and month so a run can be
/// repeated or resumed), and reminds members whose points expire at the end of this month. It reads only the months
/// due in the points schedule, never every member.
/// </summary>
internal sealed class PointsExpiry(
    MemberTransactions transactions, TableStore store, ProgrammeConfig programme, OrgStore org, NotificationOutbox outbox, IOptions<LoyaltyOptions> options)
{
    private const string Scope = "system:points-expiry";

    /// <summary>Handles everything due at <paramref name="now"/>.</summary>
    public async Task<PointsExpiryRun> RunAsync(DateTimeOffset now, CancellationToken ct)
    {
        var policy = await programme.GetPointsExpiryAsync(ct);
        if (!policy.Enabled)
        {
            return new PointsExpiryRun(0, 0, 0);
        }

        var today = options.Value.LocalDay(now);
        var through = policy.ExpiredThrough(today);
        var hq = (await org.GetRequiredAsync(ct)).Hq.Id;
        int members = 0, reminded = 0;
        long points = 0;
        var due = await RowsAsync($"PartitionKey ge 'points-' and PartitionKey le {TableFilter.Quote(MemberTransactions.PointsMonthPartition(through))}", ct);
        await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (row, token) =>
        {
            var month = PointBatches.Key(MonthOf(row.PartitionKey));
            var outcome = await transactions.ExecuteAsync(row.RowKey, new IdempotencyContext(Scope, month, "expiry"), (account, _) =>
            {
                var batches = PointBatches.Parse(account.PointBatches, account.Balances.Points, transactions.CurrentMonth);
                var amount = batches.EarnedThrough(MonthOf(row.PartitionKey));
                Result<LedgerDecision> decision = amount <= 0
                    ? new DomainError("nothing_to_expire", "No points of that month are left.", ErrorKind.Conflict)
                    : new WriteDecision(
                        new LedgerEntryDraft(LedgerEntryType.Expiry, "expiry", new LedgerChange(-amount, 0, 0), hq, month, null, $"points earned in {month} and before"),
                        balances => new { memberId = row.RowKey, month, points = amount, balances = BalancesDto.From(balances) },
                        WriteDecision.None);
                return Task.FromResult(decision);
            }, token);
            if (outcome is Completed { Replayed: false } done)
            {
                Interlocked.Increment(ref members);
                Interlocked.Add(ref points, System.Text.Json.JsonDocument.Parse(done.Body).RootElement.GetProperty("points").GetInt64());
            }

            if (outcome is Completed or Refused { Error.Code: "nothing_to_expire" or "member_not_found" })
            {
                await store.Schedules.DeleteEntityAsync(row.PartitionKey, row.RowKey, row.ETag, token);
            }
        });

        // Reminders: the month whose points go at the end of this month, once the reminder window has begun.
        var next = through.AddMonths(1);
        var lastDay = policy.LastDay(next);
        if (policy.ReminderDays > 0 && lastDay.DayNumber - today.DayNumber < policy.ReminderDays)
        {
            var soon = await RowsAsync(TableFilter.Partition(MemberTransactions.PointsMonthPartition(next)), ct);
            await Parallel.ForEachAsync(soon, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (row, token) =>
            {
                var account = await store.Members.FindEntityAsync(row.RowKey, MemberStore.AccountRow(row.RowKey), token);
                var amount = account is null ? 0 : PointBatches.Parse(account.GetString("PointBatches"), account.GetInt64("Points") ?? 0, transactions.CurrentMonth).EarnedThrough(next);
                if (amount > 0)
                {
                    var text = $"您有 {amount} 积分将于 {lastDay.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)} 到期，请尽快使用。";
                    if (await outbox.QueueAsync(row.RowKey, "points-expiring-" + PointBatches.Key(next), "points_expiring", text, marketing: true, token) == OutboxResult.Queued)
                    {
                        Interlocked.Increment(ref reminded);
                    }
                }
            });
        }

        return new PointsExpiryRun(members, points, reminded);
    }

    private static DateOnly MonthOf(string partition) =>
        DateOnly.ParseExact(partition["points-".Length..] + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture);

    private async Task<List<TableEntity>> RowsAsync(string filter, CancellationToken ct)
    {
        var rows = new List<TableEntity>();
        await foreach (var row in store.Schedules.QueryAsync<TableEntity>(filter, cancellationToken: ct))
        {
            rows.Add(row);
        }

        return rows;
    }
}

/// <summary>Timer-triggered, hourly: runs points expiry and its reminders.</summary>
internal sealed class ExpirePoints(PointsExpiry expiry, TimeProvider time, ILogger<ExpirePoints> logger) : ITimerFunction
{
    public const string Schedule = "0 20 * * * *";

    public async Task RunAsync(TimerInvocation invocation, CancellationToken cancellationToken)
    {
        var run = await expiry.RunAsync(time.GetUtcNow(), cancellationToken);
        logger.LogInformation("Points expiry: {Points} points of {Members} members expired, {Reminded} reminders queued", run.PointsExpired, run.MembersExpired, run.Reminded);
    }
}
