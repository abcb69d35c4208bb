using System.Collections.Concurrent;
using Azure;
using Azure.Data.Tables;
using Loyalty.Storage.Events;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;

namespace Loyalty.Functions.Events;

/// <summary>
/// Publishes outbox rows: given the row a transaction wrote, it walks back along the rows' <c>Previous</c> keys (point
/// reads, no partition query) to the oldest row not yet dispatched, publishes their events in order to the transport
/// (Service Bus in Azure, a Storage queue locally) and to the webhook endpoints, then deletes the rows. Every step may
/// be repeated: a dispatcher stopped half-way leaves its rows, and the next dispatch (its message redelivered, or the
/// member's next change, which walks back to them) publishes them again under the same event ids, which the topic's
/// duplicate detection and the webhook delivery log drop. Within a process one partition is dispatched at a time, so
/// a member's events leave in order.
/// <para>
/// The process remembers the rows it has deleted (<see cref="DeletedRows"/>): a walk back that reaches one through
/// <c>Previous</c> stops there without reading it, since everything older went out before it was deleted. So a
/// member's next change, whose row names the row of the change before, costs no read of a row that is already gone; a
/// row another instance deleted is still looked for (a 404), as before. The row asked for is always read: a system
/// event's row can be written again by a repeated step after it went out, and must go out (and be deleted) again.
/// </para>
/// </summary>
internal sealed class EventDispatcher(TableStore store, IEventTransport transport, WebhookDeliverer webhooks, ILogger<EventDispatcher> logger)
{
    /// <summary>Rows published, delivered and deleted together, oldest first.</summary>
    private const int RowsPerStep = 100;

    /// <summary>A bound on the walk back, against a corrupt chain; far beyond any backlog a member builds.</summary>
    private const int MaxRows = 100_000;

    /// <summary>
    /// How many deleted rows the process remembers (a few megabytes); the oldest are forgotten first. It pays off for a
    /// member's changes close together (enrolment, top-up and sale in one visit; an offer to members just imported).
    /// </summary>
    private const int RememberedRows = 20_000;

    private static readonly SemaphoreSlim[] Stripes = [.. Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1))];

    private readonly DeletedRows _deleted = new(RememberedRows);

    /// <summary>Publishes <paramref name="rowKey"/> of <paramref name="memberId"/> and any older row; the number of events published.</summary>
    public Task<int> DispatchMemberAsync(string memberId, string rowKey, CancellationToken cancellationToken) =>
        DispatchAsync(store.Members, memberId, rowKey, cancellationToken);

    /// <summary>Publishes <paramref name="rowKey"/> of one partition of <paramref name="table"/> and any older row.</summary>
    public Task<int> DispatchAsync(TableClient table, string partitionKey, string rowKey, CancellationToken cancellationToken) =>
        DispatchAsync(table, partitionKey, rowKey, null, cancellationToken);

    /// <summary>
    /// Publishes <paramref name="written"/>, a row this process has just added to <paramref name="table"/>, and any older
    /// row of its partition, without reading it back.
    /// </summary>
    public Task<int> DispatchWrittenAsync(TableClient table, TableEntity written, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(written);
        return DispatchAsync(table, written.PartitionKey, written.RowKey, written, cancellationToken);
    }

    private async Task<int> DispatchAsync(TableClient table, string partitionKey, string rowKey, TableEntity? written, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(table);
        var stripe = Stripes[(uint)StringComparer.Ordinal.GetHashCode(partitionKey) % Stripes.Length];
        await stripe.WaitAsync(cancellationToken);
        try
        {
            var rows = new List<TableEntity>();
            for (string? key = rowKey; key is not null && rows.Count < MaxRows;)
            {
                if (key != rowKey && _deleted.Contains(table.Name, partitionKey, key))
                {
                    break;
                }

                var row = written is not null && key == written.RowKey ? written : await table.FindEntityAsync(partitionKey, key, cancellationToken);
                if (row is null)
                {
                    break;
                }

                rows.Insert(0, row);
                key = row.GetString("Previous");
            }

            if (rows.Count == 0)
            {
                return 0;
            }

            // Oldest first, a step at a time: a row is deleted only after it and every older row went out, so the
            // chain back from any row still there always leads to the oldest row not yet published.
            var published = 0;
            foreach (var step in rows.Chunk(RowsPerStep))
            {
                var events = step.SelectMany(OutboxRows.FromRow).ToList();
                var cloudEvents = events.Select(IntegrationEvents.ToCloudEvent).ToList();
                await transport.PublishAsync(cloudEvents, cancellationToken);
                await webhooks.DeliverAsync(events, [.. cloudEvents.Select(e => IntegrationEvents.Encode(e, out _).ToArray())], cancellationToken);
                foreach (var row in step)
                {
                    try
                    {
                        await table.DeleteEntityAsync(row.PartitionKey, row.RowKey, ETag.All, cancellationToken);
                    }
                    catch (RequestFailedException ex) when (ex.Status == 404)
                    {
                        // Another dispatcher (another instance) finished it too.
                    }

                    _deleted.Add(table.Name, row.PartitionKey, row.RowKey);
                }

                published += events.Count;
            }

            logger.LogDebug("Dispatched {Count} events of {Partition}", published, partitionKey);
            return published;
        }
        finally
        {
            stripe.Release();
        }
    }
}

/// <summary>
/// A bounded set of outbox rows this process has deleted, by table, partition and row key. A row that an outbox row
/// names as its <c>Previous</c> is never written again (a member's keys carry the stream's sequence number, and a
/// system event's stream has one row), so a key in the set that is reached that way is gone for good. When full, the
/// oldest entries are dropped, and a forgotten row is read (and found missing) as if another instance had deleted it.
/// </summary>
internal sealed class DeletedRows(int capacity)
{
    private readonly ConcurrentDictionary<string, byte> _keys = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _order = new();

    public bool Contains(string table, string partitionKey, string rowKey) => _keys.ContainsKey(Key(table, partitionKey, rowKey));

    public void Add(string table, string partitionKey, string rowKey)
    {
        var key = Key(table, partitionKey, rowKey);
        if (!_keys.TryAdd(key, 0))
        {
            return;
        }

        _order.Enqueue(key);
        while (_order.Count > capacity && _order.TryDequeue(out var oldest))
        {
            _keys.TryRemove(oldest, out _);
        }
    }

    private static string Key(string table, string partitionKey, string rowKey) => table + "\n" + partitionKey + "\n" + rowKey;
}
