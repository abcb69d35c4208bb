using Azure.Storage.Queues.Models;
using Loyalty.Storage.Queues;
using Azure.Data.Tables;
using System.Text.Json;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Http;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;

namespace Loyalty.Functions.Ops;

/// <summary>
/// Poison messages and parked order events (HQ admins, ops): <c>GET /api/ops/queues/{queue}/poison</c> lists up to 32
/// poison messages of a function's queue; <c>POST .../poison/replay</c> moves them back to the queue (every queue
/// function is idempotent, so a replay is safe); <c>GET /api/ops/order-events?status=parked</c> lists parked events
/// with their reasons; <c>POST /api/ops/order-events/{source}/{storeId}/{eventId}/replay</c> queues one again.
/// </summary>
internal static class QueueOpsApi
{
    public static async Task<IResult> ListPoisonAsync(HttpContext http, string queue, TableStore store)
    {
        ArgumentNullException.ThrowIfNull(http);
        if (!Known(queue, store.Names))
        {
            return UnknownQueue(queue);
        }

        PeekedMessage[] messages = await store.Queue(StorageNames.Poison(queue)).PeekMessagesAsync(32, http.RequestAborted);
        return TypedResults.Ok(new { queue = StorageNames.Poison(queue), items = messages.Select(m => new { m.MessageId, InsertionTime = m.InsertedOn, Body = m.Body.ToString() }) });
    }

    public static async Task<IResult> ReplayPoisonAsync(HttpContext http, string queue, TableStore store)
    {
        ArgumentNullException.ThrowIfNull(http);
        if (!Known(queue, store.Names))
        {
            return UnknownQueue(queue);
        }

        var poison = store.Queue(StorageNames.Poison(queue));
        var target = store.Queue(queue);
        var replayed = 0;
        for (var round = 0; round < 100; round++)
        {
            QueueMessage[] batch = await poison.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(1), http.RequestAborted);
            if (batch.Length == 0)
            {
                break;
            }

            foreach (var message in batch)
            {
                // Send first, delete second: a crash in between replays twice, which idempotent functions absorb.
                await target.SendMessageAsync(message.Body, cancellationToken: http.RequestAborted);
                await poison.DeleteMessageIfExistsAsync(message.MessageId, message.PopReceipt, http.RequestAborted);
                replayed++;
            }
        }

        return TypedResults.Ok(new { queue, replayed });
    }

    public static async Task<IResult> ListOrderEventsAsync(HttpContext http, TableStore store)
    {
        ArgumentNullException.ThrowIfNull(http);
        var status = http.Request.Query["status"].ToString();
        var filter = string.IsNullOrEmpty(status) ? null : $"Status eq {TableFilter.Quote(status)}";
        var page = await store.OrderEvents.QueryPageAsync(filter, 200, cancellationToken: http.RequestAborted);
        return TypedResults.Ok(new
        {
            items = page.Items.Select(r => new
            {
                key = r.PartitionKey,
                eventId = r.RowKey,
                status = r.GetString("Status"),
                reason = r.GetString("Reason"),
                type = r.GetString("Type"),
                orderId = r.GetString("OrderId"),
                at = r.GetDateTimeOffset("At"),
            }),
        });
    }

    public static async Task<IResult> ReplayOrderEventAsync(HttpContext http, string source, string storeId, string eventId, TableStore store)
    {
        ArgumentNullException.ThrowIfNull(http);
        var row = await store.OrderEvents.FindEntityAsync($"{source}-{storeId}", eventId, http.RequestAborted);
        if (row?.GetString("Message") is not { } message)
        {
            return Problems.Create(StatusCodes.Status404NotFound, "event_not_found", "No such order event.");
        }

        var again = JsonSerializer.Deserialize<Webhooks.OrderEventMessage>(message, JsonDefaults.Options)! with { Waits = 0 };
        await store.Queue(store.Names.OrderEventsQueue).SendMessageAsync(JsonSerializer.Serialize(again, JsonDefaults.Options), cancellationToken: http.RequestAborted);
        return TypedResults.Accepted((string?)null, new { eventId, status = "queued" });
    }

    private static bool Known(string queue, StorageNames names) =>
        names.AllQueues.Contains(queue, StringComparer.Ordinal);

    private static IResult UnknownQueue(string queue) =>
        Problems.Create(StatusCodes.Status404NotFound, "queue_unknown", $"'{queue}' is not the queue of a function.");
}
