using Azure;
using Azure.Data.Tables;
using Loyalty.Storage.Events;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;

namespace Loyalty.Functions.Events;

/// <summary>
/// Publishes a member's outbox: reads the partition's outbox rows in order, publishes their events to the transport
/// (Service Bus in Azure, a Storage queue locally) and to the webhook endpoints, then deletes the rows. Every step may
/// be repeated: a dispatcher stopped half-way leaves its rows, and the next dispatch of the member (a redelivered
/// message, or the member's next change) publishes them again under the same event ids, which the topic's duplicate
/// detection and the webhook delivery log drop. Within a process one member is dispatched at a time, so its events
/// leave in order.
/// </summary>
internal sealed class EventDispatcher(TableStore store, IEventTransport transport, WebhookDeliverer webhooks, ILogger<EventDispatcher> logger)
{
    private static readonly SemaphoreSlim[] Stripes = [.. Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1))];

    /// <summary>Publishes every outbox row of <paramref name="memberId"/>; the number of events published.</summary>
    public Task<int> DispatchMemberAsync(string memberId, CancellationToken cancellationToken) =>
        DispatchAsync(store.Members, memberId, cancellationToken);

    /// <summary>Publishes every outbox row of one partition of <paramref name="table"/>.</summary>
    public async Task<int> DispatchAsync(TableClient table, string partitionKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(table);
        var stripe = Stripes[(uint)StringComparer.Ordinal.GetHashCode(partitionKey) % Stripes.Length];
        await stripe.WaitAsync(cancellationToken);
        try
        {
            var rows = new List<TableEntity>();
            await foreach (var row in table.QueryAsync<TableEntity>(TableFilter.PartitionRowPrefix(partitionKey, OutboxRows.Prefix), cancellationToken: cancellationToken))
            {
                rows.Add(row);
            }

            if (rows.Count == 0)
            {
                return 0;
            }

            var events = rows.SelectMany(OutboxRows.FromRow).ToList();
            var cloudEvents = events.Select(IntegrationEvents.ToCloudEvent).ToList();
            await transport.PublishAsync(cloudEvents, cancellationToken);
            await webhooks.DeliverAsync(events, [.. cloudEvents.Select(e => IntegrationEvents.Encode(e, out _).ToArray())], cancellationToken);
            foreach (var row in rows)
            {
                try
                {
                    await table.DeleteEntityAsync(row.PartitionKey, row.RowKey, ETag.All, cancellationToken);
                }
                catch (RequestFailedException ex) when (ex.Status == 404)
                {
                    // Another dispatcher (another instance) finished it too.
                }
            }

            logger.LogDebug("Dispatched {Count} events of {Partition}", events.Count, partitionKey);
            return events.Count;
        }
        finally
        {
            stripe.Release();
        }
    }
}
