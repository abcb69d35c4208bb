using System.Globalization;
using Azure;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;

namespace Loyalty.Storage.Reports;

/// <summary>What became of one fact.</summary>
public enum ProjectionResult
{
    /// <summary>Counted now.</summary>
    Counted,
    /// <summary>Counted before (a replayed or duplicated message): nothing changed.</summary>
    AlreadyCounted,
    /// <summary>No such fact row (yet): its transaction has not committed, or never will.</summary>
    Missing,
}

/// <summary>
/// Adds the counters of committed fact rows to the store's aggregates, exactly once per fact. The day row, the running
/// totals and a marker row named after the fact sit in the store's partition and change in one entity-group
/// transaction; a fact already marked is skipped, so a redelivered or replayed message counts nothing twice. The day
/// and total rows are split into <see cref="Shards"/> rows by member, so one busy store does not serialise its whole
/// day on one row.
/// </summary>
public sealed class ReportProjector(TableStore store)
{
    /// <summary>Rows per store and day (and running totals) that the counters are spread over.</summary>
    public const int Shards = 4;

    private const int MaxAttempts = 20;
    private static readonly SemaphoreSlim[] Stripes = [.. Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1))];

    /// <summary>Partition of a store's aggregates.</summary>
    public static string StorePartition(string storeId) => "s-" + storeId;

    /// <summary>Row key prefix of a store's day rows; a day's rows are <c>d-{yyyy-MM-dd}-{shard}</c>.</summary>
    public static string DayPrefix(DateOnly day) => "d-" + day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + "-";

    /// <summary>Row key prefix of the running totals.</summary>
    public const string TotalPrefix = "t-";

    /// <summary>Row key of the marker of a fact.</summary>
    public static string MarkerKey(string memberId, string factRowKey) => "x-" + memberId + "-" + factRowKey;

    /// <summary>Counts the fact <paramref name="factRowKey"/> of <paramref name="memberId"/> into its store's aggregates.</summary>
    public async Task<ProjectionResult> ProjectAsync(string memberId, string factRowKey, CancellationToken cancellationToken = default)
    {
        var fact = await store.Members.GetEntityAsync(memberId, factRowKey, cancellationToken);
        if (fact is null)
        {
            return ProjectionResult.Missing;
        }

        var storeId = fact.Require("StoreId");
        var day = DateOnly.ParseExact(fact.Require("Day"), "yyyy-MM-dd", CultureInfo.InvariantCulture);
        var counters = ReportCounters.Parse(fact.GetString("Counters"));
        var partition = StorePartition(storeId);
        var shard = (int)((uint)StringComparer.Ordinal.GetHashCode(memberId) % Shards);
        var marker = MarkerKey(memberId, factRowKey);
        var dayKey = DayPrefix(day) + shard.ToString(CultureInfo.InvariantCulture);
        var totalKey = TotalPrefix + shard.ToString(CultureInfo.InvariantCulture);

        var stripe = Stripes[(uint)StringComparer.Ordinal.GetHashCode(partition + "\n" + shard) % Stripes.Length];
        await stripe.WaitAsync(cancellationToken);
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                var dayTask = store.Reports.GetEntityAsync(partition, dayKey, cancellationToken);
                var totalTask = store.Reports.GetEntityAsync(partition, totalKey, cancellationToken);
                var markerTask = attempt > 1 ? store.Reports.GetEntityAsync(partition, marker, cancellationToken) : Task.FromResult<TableEntity?>(null);
                var (dayRow, totalRow, markerRow) = (await dayTask, await totalTask, await markerTask);
                if (markerRow is not null)
                {
                    return ProjectionResult.AlreadyCounted;
                }

                var actions = new List<TableTransactionAction>(3)
                {
                    Merge(partition, dayKey, dayRow, counters, ("Day", day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))),
                    Merge(partition, totalKey, totalRow, counters),
                    new(TableTransactionActionType.Add, new TableEntity(partition, marker) { ["Day"] = fact.Require("Day") }),
                };
                try
                {
                    await store.Reports.SubmitTransactionAsync(actions, cancellationToken);
                    return ProjectionResult.Counted;
                }
                catch (RequestFailedException ex) when (ex.Status is 409 or 412 && attempt < MaxAttempts)
                {
                    // Another projector changed a row since we read it, or this fact is already marked: look again.
                    await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 10 * attempt)), cancellationToken);
                }
            }
        }
        finally
        {
            stripe.Release();
        }
    }

    private static TableTransactionAction Merge(string partition, string rowKey, TableEntity? existing, ReportCounters add, params (string Name, object Value)[] extra)
    {
        var sum = ReportCounters.Parse(existing?.GetString("Counters")).Add(add.Values);
        var row = new TableEntity(partition, rowKey) { ["Counters"] = sum.ToJson() };
        foreach (var (name, value) in extra)
        {
            row[name] = value;
        }

        return existing is null
            ? new(TableTransactionActionType.Add, row)
            : new(TableTransactionActionType.UpdateReplace, row, existing.ETag);
    }
}
