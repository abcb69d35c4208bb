using System.Text.Json.Nodes;
using Azure;
using Loyalty.Functions.Hosting;
using Loyalty.Storage.Events;
using Loyalty.Storage.Schema;

namespace Loyalty.Functions.Events;

/// <summary>
/// Events that belong to no member transaction (an approval decided, a notification composed): written by an
/// idempotent step as the only event of its own stream in the Outbox table (the stream is named by what happened, so a
/// repeated step writes the same row), then dispatched at once. A step that stops between the two leaves the row,
/// and <see cref="SweepOutbox"/> dispatches it.
/// </summary>
internal sealed class SystemEvents(TableStore store, EventDispatcher dispatcher, TimeProvider time)
{
    /// <summary>Writes and dispatches the event of <paramref name="stream"/> (its id is <c>{stream}-1</c>).</summary>
    public async Task PublishAsync(string stream, string type, JsonObject data, CancellationToken cancellationToken)
    {
        var table = store.Table(store.Names.Outbox);
        var row = OutboxRows.ToRow(stream, stream, 1, [new EventDraft(type, data)], time.GetUtcNow());
        try
        {
            await table.AddEntityAsync(row, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            // Written by an earlier run of the same step and not yet dispatched: what it wrote is what goes out.
            await dispatcher.DispatchAsync(table, stream, row.RowKey, cancellationToken);
            return;
        }

        // Added now, so the row in hand is the row stored (no read back).
        await dispatcher.DispatchWrittenAsync(table, row, cancellationToken);
    }
}

/// <summary>Timer: dispatches Outbox rows that a stopped step left behind (older than a minute).</summary>
internal sealed class SweepOutbox(TableStore store, EventDispatcher dispatcher, TimeProvider time, ILogger<SweepOutbox> logger) : ITimerFunction
{
    public const string Schedule = "0 */5 * * * *";

    public async Task RunAsync(TimerInvocation invocation, CancellationToken cancellationToken)
    {
        var table = store.Table(store.Names.Outbox);
        var before = time.GetUtcNow().AddMinutes(-1);
        var streams = new HashSet<(string, string)>();
        await foreach (var row in table.QueryAsync<Azure.Data.Tables.TableEntity>(r => r.Timestamp < before, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
        {
            streams.Add((row.PartitionKey, row.RowKey));
        }

        foreach (var (stream, rowKey) in streams)
        {
            await dispatcher.DispatchAsync(table, stream, rowKey, cancellationToken);
        }

        if (streams.Count > 0)
        {
            logger.LogWarning("Dispatched {Count} outbox streams left behind", streams.Count);
        }
    }
}

/// <summary>
/// Timer (daily): the delivery log keeps delivered events for <see cref="DaysKept"/> days; parked and waiting ones
/// stay until they are delivered (a replay) or their endpoint is deleted.
/// </summary>
internal sealed class PurgeWebhookDeliveries(
    Storage.Webhooks.WebhookEndpointStore endpoints, Storage.Webhooks.WebhookDeliveryStore deliveries, TimeProvider time, ILogger<PurgeWebhookDeliveries> logger) : ITimerFunction
{
    public const string Schedule = "0 15 4 * * *";

    public const int DaysKept = 30;

    public async Task RunAsync(TimerInvocation invocation, CancellationToken cancellationToken)
    {
        var before = time.GetUtcNow().AddDays(-DaysKept);
        var purged = 0;
        foreach (var endpoint in await endpoints.ListAsync(cancellationToken))
        {
            purged += await deliveries.PurgeDeliveredAsync(endpoint.EndpointId, before, cancellationToken);
        }

        logger.LogInformation("Purged {Count} webhook deliveries delivered before {Before:yyyy-MM-dd}", purged, before);
    }
}
