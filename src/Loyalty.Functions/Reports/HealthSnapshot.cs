using Azure.Data.Tables;
using System.Diagnostics;
using Loyalty.Domain.Reports;
using Loyalty.Domain.Tags;
using Loyalty.Functions.Hosting;
using Loyalty.Storage.Members;
using Loyalty.Storage.Reports;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Reports;

/// <summary>What a snapshot run counted.</summary>
internal sealed record SnapshotSummary(DateOnly Day, long Members, int Stores, double Seconds);

/// <summary>
/// The daily programme-health snapshot. Tier shares, spend over the last 6 and 12 months, dormancy and repurchase
/// change as days pass even when nobody buys (a month leaves the window), so they cannot be kept up by the
/// transactions alone: once a day this pages through the member table (account and profile rows, 1,000 per page),
/// adds each member to the figures of the member's home store, and writes one row per store. Reports then add up
/// the rows of the stores in the caller's scope; no request reads members.
/// </summary>
internal sealed class HealthSnapshot(TableStore store, MemberStore members, ReportStore reports, TimeProvider time, IOptions<LoyaltyOptions> options)
{
    /// <summary>Days without a purchase after which a member counts as dormant.</summary>
    public const int DormantDays = 180;

    private const int PageSize = 1000;
    private static readonly string[] Columns = ["PartitionKey", "RowKey", "Tier", "Stats", "StoreId", "EnrolledAt"];

    /// <summary>Takes the snapshot of today (chain time zone).</summary>
    public async Task<SnapshotSummary> TakeAsync(CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var zone = options.Value.ChainTimeZone;
        var now = time.GetUtcNow();
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(now, zone).DateTime);
        var byStore = new Dictionary<string, ProgrammeHealth>(StringComparer.Ordinal);
        var filter = MemberStore.AccountAndProfileRows;
        TableContinuation? continuation = null;
        long counted = 0;
        do
        {
            var page = await store.Members.QueryPageAsync(filter, PageSize, continuation, Columns, ct);
            foreach (var member in page.Items.GroupBy(r => r.PartitionKey, StringComparer.Ordinal))
            {
                var account = member.FirstOrDefault(MemberStore.IsAccountRow);
                if (account is null)
                {
                    continue; // its account row ended the previous page, which counted it
                }

                var profile = member.FirstOrDefault(MemberStore.IsProfileRow) ?? await members.GetRowAsync(member.Key, MemberStore.ProfileRow(member.Key), ct);
                if (profile?.GetString("StoreId") is not { } storeId)
                {
                    continue;
                }

                if (!byStore.TryGetValue(storeId, out var health))
                {
                    byStore[storeId] = health = new ProgrammeHealth();
                }

                var enrolled = profile.GetDateTimeOffset("EnrolledAt") is { } at ? DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(at, zone).DateTime) : today;
                health.Add(account.GetString("Tier") ?? Domain.Members.MemberAccount.EntryTier, MemberStats.Parse(account.GetString("Stats")), today, enrolled, DormantDays);
                counted++;
            }

            continuation = page.Continuation;
        }
        while (continuation is not null);

        await Parallel.ForEachAsync(byStore, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (entry, token) =>
            await reports.WriteHealthAsync(entry.Key, today, entry.Value.ToJson(), token));
        await reports.MarkLatestAsync(today, now, string.Join(',', byStore.Keys.Order(StringComparer.Ordinal)), ct);
        return new SnapshotSummary(today, counted, byStore.Count, Math.Round(watch.Elapsed.TotalSeconds, 3));
    }
}

/// <summary>Timer-triggered, daily: the programme-health snapshot.</summary>
internal sealed class TakeHealthSnapshot(HealthSnapshot snapshot, ILogger<TakeHealthSnapshot> logger) : ITimerFunction
{
    public const string Schedule = "0 0 3 * * *";

    public async Task RunAsync(TimerInvocation invocation, CancellationToken cancellationToken)
    {
        var summary = await snapshot.TakeAsync(cancellationToken);
        logger.LogInformation("Health snapshot {Day}: {Members} members over {Stores} stores in {Seconds} s", summary.Day, summary.Members, summary.Stores, summary.Seconds);
    }
}

/// <summary><c>POST /api/ops/reports/snapshot</c>: takes the programme-health snapshot now (it also runs daily).</summary>
internal static class SnapshotApi
{
    public static async Task<IResult> Handle(HttpContext http, HealthSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(snapshot);
        return TypedResults.Ok(await snapshot.TakeAsync(http.RequestAborted));
    }
}
