using Azure.Data.Tables;
using System.Globalization;
using Loyalty.Domain.Common;
using Loyalty.Domain.Programme;
using Loyalty.Functions.Hosting;
using Loyalty.Storage.Ledger;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Programme;

/// <summary>What one tier evaluation did.</summary>
internal sealed record TierEvaluationRun(string Period, int Evaluated, int Downgraded);

/// <summary>
/// The period-end tier evaluation (降级): when the policy allows downgrades, once the grace days after a period end
/// have passed, each member above the entry tier drops to the tier that the previous period's progress supports,
/// never below a manually granted floor. One member transaction per member and period (keyed by the period), so the
/// daily run can repeat or resume without moving anyone twice. Only members listed as above the entry tier are read.
/// </summary>
internal sealed class TierEvaluation(MemberTransactions transactions, TableStore store, ProgrammeConfig programme, IOptions<LoyaltyOptions> options)
{
    /// <summary>Partition of the <c>Schedules</c> table listing members above the entry tier.</summary>
    public const string Partition = "tiered";

    /// <summary>Evaluates the period that ended before <paramref name="now"/>, if its grace days have passed.</summary>
    public async Task<TierEvaluationRun> RunAsync(DateTimeOffset now, CancellationToken ct)
    {
        var rules = await programme.GetRulesAsync(ct);
        var policy = rules.Policy;
        var today = options.Value.LocalDay(now);
        var (start, key) = policy.PeriodOf(today);
        if (!policy.Downgrade || today < start.AddDays(policy.GraceDays))
        {
            return new TierEvaluationRun(key, 0, 0);
        }

        var lastDay = start.AddDays(-1);
        var members = new List<TableEntity>();
        await foreach (var row in store.Schedules.QueryAsync<TableEntity>(TableFilter.Partition(Partition), cancellationToken: ct))
        {
            members.Add(row);
        }

        int evaluated = 0, downgraded = 0;
        await Parallel.ForEachAsync(members, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (row, token) =>
        {
            Interlocked.Increment(ref evaluated);
            var moved = false;
            var outcome = await transactions.ExecuteAsync(row.RowKey, new IdempotencyContext("system:tier-evaluation", key, "evaluate"), (account, _) =>
            {
                // A tier reached during the current period was earned after the period under review: it stays.
                var total = TierProgress.Parse(account.TierProgress).Total(lastDay, policy.Period);
                var after = string.CompareOrdinal(account.TierSince, start.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)) >= 0
                    ? rules.Tier(account.Tier)
                    : TierProgress.AfterPeriodEnd(rules.Tiers, account.Tier, account.TierFloor, total);
                moved = after.Code != account.Tier;
                return Task.FromResult<Result<LedgerDecision>>(new WriteDecision(
                    null,
                    _ => new { memberId = row.RowKey, period = key, from = account.Tier, to = after.Code, progress = total },
                    _ => moved
                        ? [new(TableTransactionActionType.Add, transactions.AuditRow(row.RowKey, "system", "tier.downgrade", row.RowKey, account.Tier, $"{after.Code} (progress {total} in the period ending {lastDay:yyyy-MM-dd})"))]
                        : [])
                {
                    Tier = moved ? after.Code : null,
                    Status = StatusCodes.Status200OK,
                });
            }, token);
            if (outcome is Completed { Replayed: false } && moved)
            {
                Interlocked.Increment(ref downgraded);
            }

            // Members back at the entry tier leave the list until their next upgrade.
            var account = await store.Members.FindEntityAsync(row.RowKey, Storage.Members.MemberStore.AccountRow(row.RowKey), token);
            if (account is null || TierProgress.IndexOf(rules.Tiers, account.GetString("Tier")) <= 0)
            {
                await store.Schedules.DeleteEntityAsync(row.PartitionKey, row.RowKey, row.ETag, token);
            }
        });
        return new TierEvaluationRun(key, evaluated, downgraded);
    }
}

/// <summary>Timer-triggered, daily: the period-end tier evaluation.</summary>
internal sealed class EvaluateTiers(TierEvaluation evaluation, TimeProvider time, ILogger<EvaluateTiers> logger) : ITimerFunction
{
    public const string Schedule = "0 40 2 * * *";

    public async Task RunAsync(TimerInvocation invocation, CancellationToken cancellationToken)
    {
        var run = await evaluation.RunAsync(time.GetUtcNow(), cancellationToken);
        logger.LogInformation("Tier evaluation for {Period}: {Evaluated} evaluated, {Downgraded} moved down", run.Period, run.Evaluated, run.Downgraded);
    }
}
