using Azure;
using Azure.Data.Tables;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;

namespace Loyalty.Storage.Webhooks;

/// <summary>Where a delivery stands.</summary>
public enum DeliveryStatus
{
    /// <summary>Claimed by the dispatcher; its first attempt has not finished.</summary>
    Pending,
    /// <summary>The endpoint answered 2xx.</summary>
    Delivered,
    /// <summary>Failed; the next attempt is queued for <see cref="WebhookDelivery.NextAttemptAt"/>.</summary>
    Retrying,
    /// <summary>Given up after the retry schedule (or the endpoint was deleted); a replay sends it again.</summary>
    Parked,
}

/// <summary>One event for one endpoint: the signed body and how its attempts went.</summary>
public sealed record WebhookDelivery(
    string EndpointId,
    string EventId,
    string EventType,
    string Subject,
    byte[] Body,
    DeliveryStatus Status,
    int Attempts,
    int? LastStatusCode,
    string? LastError,
    DateTimeOffset CreatedAt,
    DateTimeOffset? LastAttemptAt,
    DateTimeOffset? NextAttemptAt,
    DateTimeOffset? DeliveredAt,
    DateTimeOffset RoundStartedAt,
    ETag ETag);

/// <summary>
/// The delivery log (WebhookDeliveries table): partition = endpoint, row = event id. The row is claimed (inserted)
/// before the first attempt, so an event re-dispatched after a crash is not sent again once delivered or queued for
/// retry; every attempt updates it with If-Match, so two workers never both move it on.
/// </summary>
public sealed class WebhookDeliveryStore(TableStore store)
{
    private TableClient Table => store.Table(store.Names.WebhookDeliveries);

    /// <summary>Inserts a pending delivery; the existing one when the event was claimed for this endpoint before.</summary>
    public async Task<(WebhookDelivery Delivery, bool Claimed)> ClaimAsync(WebhookDelivery delivery, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        try
        {
            var response = await Table.AddEntityAsync(ToRow(delivery), cancellationToken);
            return (delivery with { ETag = response.Headers.ETag ?? default }, true);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return (await GetAsync(delivery.EndpointId, delivery.EventId, cancellationToken) ?? throw new InvalidOperationException("A claimed delivery vanished."), false);
        }
    }

    /// <summary>One delivery; null when unknown.</summary>
    public async Task<WebhookDelivery?> GetAsync(string endpointId, string eventId, CancellationToken cancellationToken = default) =>
        await Table.FindEntityAsync(endpointId, eventId, cancellationToken) is { } row ? FromRow(row) : null;

    /// <summary>Writes the delivery's new state if nobody moved it meanwhile; false when somebody did.</summary>
    public async Task<WebhookDelivery?> TryUpdateAsync(WebhookDelivery delivery, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        try
        {
            var response = await Table.UpdateEntityAsync(ToRow(delivery), delivery.ETag, TableUpdateMode.Replace, cancellationToken);
            return delivery with { ETag = response.Headers.ETag ?? default };
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            return null;
        }
    }

    /// <summary>An endpoint's deliveries (optionally of one status), up to <paramref name="limit"/>.</summary>
    public async Task<IReadOnlyList<WebhookDelivery>> ListAsync(string endpointId, DeliveryStatus? status, int limit, CancellationToken cancellationToken = default)
    {
        var filter = TableFilter.Partition(endpointId);
        if (status is { } s)
        {
            filter += $" and Status eq {TableFilter.Quote(s.ToString())}";
        }

        var list = new List<WebhookDelivery>();
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            list.Add(FromRow(row));
            if (list.Count >= limit)
            {
                break;
            }
        }

        return list;
    }

    /// <summary>Deletes an endpoint's delivered rows delivered before <paramref name="before"/>; how many.</summary>
    public async Task<int> PurgeDeliveredAsync(string endpointId, DateTimeOffset before, CancellationToken cancellationToken = default)
    {
        var filter = $"{TableFilter.Partition(endpointId)} and Status eq {TableFilter.Quote(nameof(DeliveryStatus.Delivered))} and DeliveredAt lt datetime'{before.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}'";
        var keys = new List<string>();
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, select: ["RowKey"], cancellationToken: cancellationToken))
        {
            keys.Add(row.RowKey);
        }

        await Table.DeleteRowsAsync(endpointId, keys, cancellationToken);
        return keys.Count;
    }

    private static TableEntity ToRow(WebhookDelivery d) => new(d.EndpointId, d.EventId)
    {
        ["EventType"] = d.EventType,
        ["Subject"] = d.Subject,
        ["Body"] = d.Body,
        ["Status"] = d.Status.ToString(),
        ["Attempts"] = d.Attempts,
        ["LastStatusCode"] = d.LastStatusCode,
        ["LastError"] = d.LastError is { Length: > 500 } text ? text[..500] : d.LastError,
        ["CreatedAt"] = d.CreatedAt,
        ["LastAttemptAt"] = d.LastAttemptAt,
        ["NextAttemptAt"] = d.NextAttemptAt,
        ["DeliveredAt"] = d.DeliveredAt,
        ["RoundStartedAt"] = d.RoundStartedAt,
    };

    private static WebhookDelivery FromRow(TableEntity row) => new(
        row.PartitionKey,
        row.RowKey,
        row.Require("EventType"),
        row.GetString("Subject") ?? string.Empty,
        row.GetBinary("Body") ?? [],
        Enum.Parse<DeliveryStatus>(row.Require("Status")),
        row.GetInt32("Attempts") ?? 0,
        row.GetInt32("LastStatusCode"),
        row.GetString("LastError"),
        row.GetDateTimeOffset("CreatedAt") ?? default,
        row.GetDateTimeOffset("LastAttemptAt"),
        row.GetDateTimeOffset("NextAttemptAt"),
        row.GetDateTimeOffset("DeliveredAt"),
        row.GetDateTimeOffset("RoundStartedAt") ?? row.GetDateTimeOffset("CreatedAt") ?? default,
        row.ETag);
}
