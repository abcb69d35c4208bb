using Azure.Data.Tables;
using System.Collections.Concurrent;
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
    /// <summary>
    /// The fact is older than <see cref="ReportProjector.FactHorizon"/>: its marker may have been purged, so it is not
    /// counted (it could be counted twice otherwise).
    /// </summary>
    Expired,
}

/// <summary>
/// Adds the counters of committed fact rows to the store's aggregates, exactly once per fact. The day rows, the
/// running totals and a marker row named after each fact sit in the store's partition and change in one entity-group
/// transaction; a fact already marked is skipped, so a redelivered or replayed message counts nothing twice. The day
/// and total rows are split into <see cref="Shards"/> rows by member, so one busy store does not serialise its whole
/// day on one row.
/// <para>
/// Facts of the same store shard that arrive together share a transaction (group commit, up to
/// <see cref="MaxFactsPerTransaction"/> markers), and the rows last written are remembered with their ETags, so a
/// steady stream costs one fact read and a share of one transaction per fact. Another writer (a second instance)
/// only makes an ETag stale: the transaction is refused with 412 as a whole, the rows are read again and it is retried.
/// </para>
/// </summary>
/// <para>
/// Markers are kept for <see cref="MarkerDaysKept"/> days (<see cref="PurgeMarkersAsync"/>); a fact older than
/// <see cref="FactHorizon"/> is not counted any more, so a marker is never needed after it is gone.
/// </para>
public sealed class ReportProjector(TableStore store, TimeProvider time)
{
    /// <summary>How old a fact may be and still be counted (a message retried or replayed from the poison queue).</summary>
    public static readonly TimeSpan FactHorizon = TimeSpan.FromDays(30);

    /// <summary>
    /// Markers of days further back than this are purged: two days beyond <see cref="FactHorizon"/>, so that a fact's
    /// business day (in the chain's time zone) can never be later than the day its marker is kept for.
    /// </summary>
    public const int MarkerDaysKept = 32;

    /// <summary>Rows per store and day (and running totals) that the counters are spread over.</summary>
    public const int Shards = 4;

    /// <summary>Facts counted in one transaction at most (with their day rows and the total row it stays within 100 operations).</summary>
    public const int MaxFactsPerTransaction = 48;

    private const int MaxAttempts = 20;
    private const int MaxCachedRows = 8;
    private readonly ConcurrentDictionary<string, Lane> _lanes = new(StringComparer.Ordinal);

    /// <summary>Partition of a store's aggregates.</summary>
    public static string StorePartition(string storeId) => "s-" + storeId;

    /// <summary>Row key prefix of a store's day rows; a day's rows are <c>d-{yyyy-MM-dd}-{shard}</c>.</summary>
    public static string DayPrefix(DateOnly day) => "d-" + day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + "-";

    /// <summary>Row key prefix of the running totals.</summary>
    public const string TotalPrefix = "t-";

    /// <summary>Row key of the marker of a fact.</summary>
    public static string MarkerKey(string day, string memberId, string factRowKey) => MarkerPrefix + day + "-" + memberId + "-" + factRowKey;

    /// <summary>Row key prefix of markers; a marker is <c>x-{yyyy-MM-dd}-{memberId}-{factRowKey}</c>, ordered by day.</summary>
    public const string MarkerPrefix = "x-";

    /// <summary>
    /// The aggregate shard of a member: FNV-1a over the id's characters, the same in every process, so that all
    /// instances of the app put one member's facts on the same rows (and contend in the same, predictable places).
    /// </summary>
    public static int ShardOf(string memberId)
    {
        ArgumentNullException.ThrowIfNull(memberId);
        var hash = 2166136261u;
        foreach (var c in memberId)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return (int)(hash % Shards);
    }

    /// <summary>Counts the fact <paramref name="factRowKey"/> of <paramref name="memberId"/> into its store's aggregates.</summary>
    public async Task<ProjectionResult> ProjectAsync(string memberId, string factRowKey, CancellationToken cancellationToken = default)
    {
        var fact = await store.Members.FindEntityAsync(memberId, factRowKey, cancellationToken);
        if (fact is null)
        {
            return ProjectionResult.Missing;
        }

        if (fact.GetDateTimeOffset("At") is { } at && time.GetUtcNow() - at > FactHorizon)
        {
            return ProjectionResult.Expired;
        }

        var partition = StorePartition(fact.Require("StoreId"));
        var day = fact.Require("Day");
        var shard = ShardOf(memberId).ToString(CultureInfo.InvariantCulture);
        var pending = new PendingFact(
            MarkerKey(day, memberId, factRowKey),
            DayPrefix(DateOnly.ParseExact(day, "yyyy-MM-dd", CultureInfo.InvariantCulture)) + shard,
            day,
            ReportCounters.Parse(fact.GetString("Counters")));

        var lane = _lanes.GetOrAdd(partition + "\n" + shard, _ => new Lane(partition, TotalPrefix + shard));
        // One caller at a time commits for a lane: the one that found it idle, then each in turn the oldest waiting.
        // The others wait for their answer or for the turn (without their token: the committer's calls are bounded
        // by its own retries and timeouts, and a turn handed to a caller gone away would stall the lane).
        if (!lane.Enqueue(pending) && await Task.WhenAny(pending.Result.Task, pending.Turn.Task) == pending.Result.Task)
        {
            return await pending.Result.Task;
        }

        await DrainAsync(lane, pending, cancellationToken);
        return await pending.Result.Task;
    }

    /// <summary>
    /// Deletes the markers of a store's days before <paramref name="before"/> (a key range, so only those rows are
    /// read), in transactions of up to 100. Day rows and totals are kept. Returns how many were deleted.
    /// </summary>
    public async Task<int> PurgeMarkersAsync(string storeId, DateOnly before, CancellationToken cancellationToken = default)
    {
        var partition = StorePartition(storeId);
        var upper = MarkerPrefix + before.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var filter = $"PartitionKey eq {TableFilter.Quote(partition)} and RowKey ge {TableFilter.Quote(MarkerPrefix)} and RowKey lt {TableFilter.Quote(upper)}";
        var keys = new List<string>();
        await foreach (var row in store.Reports.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            keys.Add(row.RowKey);
        }

        await store.Reports.DeleteRowsAsync(partition, keys, cancellationToken);
        return keys.Count;
    }

    // Commits batches of the lane until the caller's own fact is settled, then hands the lane on.
    private async Task DrainAsync(Lane lane, PendingFact own, CancellationToken cancellationToken)
    {
        List<PendingFact>? batch = null;
        try
        {
            while (!own.Result.Task.IsCompleted)
            {
                batch = lane.TakeBatch();
                await CommitAsync(lane, batch, cancellationToken);
                batch = null;
            }

            lane.PassTurn();
        }
        catch (Exception ex)
        {
            // Nothing of a failed transaction was written: every fact still waiting fails, and its message is retried.
            foreach (var pending in (batch ?? []).Concat(lane.AbandonAll()))
            {
                pending.Result.TrySetException(ex);
            }
        }
    }

    private async Task CommitAsync(Lane lane, List<PendingFact> batch, CancellationToken cancellationToken)
    {
        var open = new List<PendingFact>(batch);
        for (var attempt = 1; ; attempt++)
        {
            var keys = open.Select(p => p.DayKey).Distinct(StringComparer.Ordinal).Prepend(lane.TotalKey).ToList();
            var reads = keys.Where(k => !lane.Cached.ContainsKey(k)).Select(async k => (Key: k, Row: await store.Reports.FindEntityAsync(lane.Partition, k, cancellationToken))).ToList();
            foreach (var (key, row) in await Task.WhenAll(reads))
            {
                lane.Cached[key] = new CachedRow(row?.GetString("Counters"), row?.ETag);
            }

            var actions = new List<TableTransactionAction>(keys.Count + open.Count);
            var sums = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var key in keys)
            {
                var counted = key == lane.TotalKey ? open : open.Where(p => p.DayKey == key);
                var sum = ReportCounters.Parse(lane.Cached[key].Counters);
                foreach (var pending in counted)
                {
                    sum.Add(pending.Counters.Values);
                }

                var row = new TableEntity(lane.Partition, key) { ["Counters"] = sums[key] = sum.ToJson() };
                if (key != lane.TotalKey)
                {
                    row["Day"] = open.First(p => p.DayKey == key).Day;
                }

                actions.Add(lane.Cached[key].ETag is { } etag
                    ? new(TableTransactionActionType.UpdateReplace, row, etag)
                    : new(TableTransactionActionType.Add, row));
            }

            actions.AddRange(open.Select(p => new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(lane.Partition, p.Marker) { ["Day"] = p.Day })));
            try
            {
                var etags = await store.Reports.SubmitTransactionAsync(actions, cancellationToken);
                lane.Remember(keys.Select((k, i) => (k, new CachedRow(sums[k], etags.Value[i].Headers.ETag ?? default))));
                foreach (var pending in open)
                {
                    pending.Result.TrySetResult(ProjectionResult.Counted);
                }

                return;
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412 && attempt < MaxAttempts)
            {
                // A marker that exists is a fact counted before; a stale or new aggregate row was written by another
                // instance. Either way nothing was written: sort it out and try again.
                lane.Cached.Clear();
                List<PendingFact> counted = (ex as TableTransactionFailedException)?.FailedTransactionActionIndex switch
                {
                    int i when ex.Status == 409 && i >= keys.Count && i < actions.Count => [open[i - keys.Count]],
                    null when ex.Status == 409 => await AlreadyMarkedAsync(lane, open, cancellationToken),
                    _ => [],
                };
                foreach (var pending in counted)
                {
                    open.Remove(pending);
                    pending.Result.TrySetResult(ProjectionResult.AlreadyCounted);
                }

                if (open.Count == 0)
                {
                    return;
                }

                if (counted.Count == 0)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 10 * attempt)), cancellationToken);
                }
            }
        }
    }

    private async Task<List<PendingFact>> AlreadyMarkedAsync(Lane lane, List<PendingFact> open, CancellationToken cancellationToken)
    {
        var found = await Task.WhenAll(open.Select(async p => (Fact: p, Row: await store.Reports.FindEntityAsync(lane.Partition, p.Marker, cancellationToken))));
        return [.. found.Where(f => f.Row is not null).Select(f => f.Fact)];
    }

    /// <summary>A fact waiting to be counted, and where its answer goes.</summary>
    private sealed record PendingFact(string Marker, string DayKey, string Day, ReportCounters Counters)
    {
        public TaskCompletionSource<ProjectionResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Set when this caller is to commit for the lane.</summary>
        public TaskCompletionSource Turn { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>An aggregate row as last read or written (no ETag: it did not exist).</summary>
    private sealed record CachedRow(string? Counters, ETag? ETag);

    /// <summary>One store shard: the facts waiting for it, whether someone is committing, and its remembered rows.</summary>
    private sealed class Lane(string partition, string totalKey)
    {
        private readonly List<PendingFact> _waiting = [];
        private bool _draining;

        public string Partition { get; } = partition;

        public string TotalKey { get; } = totalKey;

        /// <summary>Only touched by the one caller draining the lane.</summary>
        public Dictionary<string, CachedRow> Cached { get; } = new(StringComparer.Ordinal);

        /// <summary>Adds a fact; true when the caller must drain (nobody else is).</summary>
        public bool Enqueue(PendingFact pending)
        {
            lock (_waiting)
            {
                _waiting.Add(pending);
                if (_draining)
                {
                    return false;
                }

                _draining = true;
                return true;
            }
        }

        /// <summary>The next facts to commit together, oldest first. A second message for a fact already in the batch
        /// waits for the next one, where its marker then exists.</summary>
        public List<PendingFact> TakeBatch()
        {
            lock (_waiting)
            {
                var batch = new List<PendingFact>();
                var markers = new HashSet<string>(StringComparer.Ordinal);
                for (var i = 0; i < _waiting.Count && batch.Count < MaxFactsPerTransaction; i++)
                {
                    if (markers.Add(_waiting[i].Marker))
                    {
                        batch.Add(_waiting[i]);
                        _waiting.RemoveAt(i--);
                    }
                }

                return batch;
            }
        }

        /// <summary>Gives the lane to the oldest waiting caller, or leaves it idle.</summary>
        public void PassTurn()
        {
            lock (_waiting)
            {
                if (_waiting.Count == 0)
                {
                    _draining = false;
                }
                else
                {
                    _waiting[0].Turn.TrySetResult();
                }
            }
        }

        /// <summary>Empties the lane after a failure; the lane is idle again.</summary>
        public List<PendingFact> AbandonAll()
        {
            lock (_waiting)
            {
                var all = new List<PendingFact>(_waiting);
                _waiting.Clear();
                _draining = false;
                return all;
            }
        }

        public void Remember(IEnumerable<(string Key, CachedRow Row)> rows)
        {
            foreach (var (key, row) in rows)
            {
                Cached[key] = row;
            }

            // Keep the running totals and the latest day rows; older days are rarely written again.
            if (Cached.Count > MaxCachedRows)
            {
                foreach (var key in Cached.Keys.Where(k => k != TotalKey).Order(StringComparer.Ordinal).Take(Cached.Count - MaxCachedRows).ToList())
                {
                    Cached.Remove(key);
                }
            }
        }
    }
}
