using Azure.Data.Tables;
using System.Globalization;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;

namespace Loyalty.Storage.Reports;

/// <summary>Reads the report aggregates of stores: days of a period, running totals, health snapshots.</summary>
public sealed class ReportStore(TableStore store)
{
    /// <summary>Row key prefix of a store's programme-health snapshots (<c>health-{yyyy-MM-dd}</c>).</summary>
    public const string HealthPrefix = "health-";

    /// <summary>Partition and row of the pointer to the latest snapshot day.</summary>
    public const string LatestPartition = "health";

    /// <summary>The counters of each day from <paramref name="from"/> to <paramref name="to"/> (inclusive) at a store, shards added up.</summary>
    public async Task<SortedDictionary<DateOnly, ReportCounters>> DaysAsync(string storeId, DateOnly from, DateOnly to, CancellationToken cancellationToken = default)
    {
        var partition = ReportProjector.StorePartition(storeId);
        var filter = $"PartitionKey eq {TableFilter.Quote(partition)} and RowKey ge {TableFilter.Quote(ReportProjector.DayPrefix(from))} and RowKey lt {TableFilter.Quote(ReportProjector.DayPrefix(to.AddDays(1)))}";
        var days = new SortedDictionary<DateOnly, ReportCounters>();
        await foreach (var row in store.Reports.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            var day = DateOnly.ParseExact(row.Require("Day"), "yyyy-MM-dd", CultureInfo.InvariantCulture);
            if (!days.TryGetValue(day, out var counters))
            {
                days[day] = counters = new ReportCounters();
            }

            counters.Add(ReportCounters.Parse(row.GetString("Counters")).Values);
        }

        return days;
    }

    /// <summary>The running totals of a store since the first fact (liabilities are read from these).</summary>
    public async Task<ReportCounters> TotalsAsync(string storeId, CancellationToken cancellationToken = default)
    {
        var totals = new ReportCounters();
        await foreach (var row in store.Reports.QueryAsync<TableEntity>(TableFilter.PartitionRowPrefix(ReportProjector.StorePartition(storeId), ReportProjector.TotalPrefix), cancellationToken: cancellationToken))
        {
            totals.Add(ReportCounters.Parse(row.GetString("Counters")).Values);
        }

        return totals;
    }

    /// <summary>Writes a store's health snapshot of <paramref name="day"/> (replacing one of the same day).</summary>
    public Task WriteHealthAsync(string storeId, DateOnly day, string json, CancellationToken cancellationToken = default) =>
        store.Reports.UpsertEntityAsync(new TableEntity(ReportProjector.StorePartition(storeId), HealthPrefix + Key(day)) { ["Health"] = json }, TableUpdateMode.Replace, cancellationToken: cancellationToken);

    /// <summary>Records that the snapshot of <paramref name="day"/> is complete, with when it was taken.</summary>
    public Task MarkLatestAsync(DateOnly day, DateTimeOffset at, string storeIds, CancellationToken cancellationToken = default) =>
        store.Reports.UpsertEntityAsync(new TableEntity(LatestPartition, "latest") { ["Day"] = Key(day), ["At"] = at, ["Stores"] = storeIds }, TableUpdateMode.Replace, cancellationToken: cancellationToken);

    /// <summary>The latest complete snapshot: its day and time, or null when none was taken.</summary>
    public async Task<(DateOnly Day, DateTimeOffset At)?> LatestAsync(CancellationToken cancellationToken = default) =>
        await store.Reports.FindEntityAsync(LatestPartition, "latest", cancellationToken) is { } row
            ? (DateOnly.ParseExact(row.Require("Day"), "yyyy-MM-dd", CultureInfo.InvariantCulture), row.GetDateTimeOffset("At") ?? default)
            : null;

    /// <summary>A store's health snapshot JSON of <paramref name="day"/>; null when the store had no members then.</summary>
    public async Task<string?> HealthAsync(string storeId, DateOnly day, CancellationToken cancellationToken = default) =>
        (await store.Reports.FindEntityAsync(ReportProjector.StorePartition(storeId), HealthPrefix + Key(day), cancellationToken))?.GetString("Health");

    private static string Key(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
