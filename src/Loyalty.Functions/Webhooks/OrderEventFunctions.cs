using System.Text.Json;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Http;
using Loyalty.Storage.Schema;

namespace Loyalty.Functions.Webhooks;

/// <summary>Queue-triggered (order-events): accepted shop events, and events of either source that had to wait.</summary>
internal sealed class ProcessOrderEvent(OrderEventProcessor processor) : IQueueFunction
{
    public Task RunAsync(QueueInvocation invocation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        var message = JsonSerializer.Deserialize<OrderEventMessage>(invocation.Body, JsonDefaults.Options)
            ?? throw new InvalidDataException("Empty order event message.");
        return processor.ProcessAsync(message, cancellationToken);
    }
}

/// <summary>
/// Service Bus-triggered in Azure (queue pos-sales), Storage queue-triggered locally (same name): POS sales events.
/// The body is the event itself and names its store. Same processing as the shops' events.
/// </summary>
internal sealed class ProcessPosSaleEvent(OrderEventProcessor processor, Loyalty.Storage.Org.OrgStore org, ILogger<ProcessPosSaleEvent> logger) : IQueueFunction
{
    public async Task RunAsync(QueueInvocation invocation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        OrderEvent? e;
        try
        {
            e = JsonSerializer.Deserialize<OrderEvent>(invocation.Body, JsonDefaults.Options);
        }
        catch (JsonException ex)
        {
            // Unreadable now means unreadable forever: fail it so it goes to the dead-letter/poison queue for ops.
            throw new InvalidDataException($"POS event {invocation.MessageId} is not valid JSON: {ex.Message}", ex);
        }

        if (ShopWebhook.Validate(e) is not null || e!.StoreId is null || (await org.GetRequiredAsync(cancellationToken)).FindStore(e.StoreId) is null)
        {
            throw new InvalidDataException($"POS event {invocation.MessageId} is incomplete or names an unknown store.");
        }

        logger.LogInformation("POS event {EventId} ({Type}) for store {StoreId}", e.EventId, e.Type, e.StoreId);
        await processor.ProcessAsync(new OrderEventMessage("pos", e.StoreId, e, Hashing.Sha256Hex(invocation.Body), 0), cancellationToken);
    }
}
