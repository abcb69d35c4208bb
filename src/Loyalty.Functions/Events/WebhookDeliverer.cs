using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Loyalty.Functions.Hosting;
using Loyalty.Storage.Config;
using Loyalty.Storage.Events;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Webhooks;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Events;

/// <summary>Message of the webhook-retries queue: the delivery whose next attempt is due.</summary>
internal sealed record WebhookRetryMessage(string EndpointId, string EventId);

/// <summary>
/// Delivers events to the registered endpoints. The dispatcher hands each member's events over in order and the first
/// attempt is made at once, so an endpoint that answers gets one member's events in order. A failed attempt is tried
/// again from the webhook-retries queue after the next delay of <c>Loyalty__WebhookRetrySchedule</c>; when the
/// schedule is used up, or 24 hours have passed, the delivery is parked and waits for a replay. A delivery is claimed
/// in the delivery log before its first attempt, so an event dispatched twice is delivered once.
/// </summary>
internal sealed class WebhookDeliverer(
    WebhookEndpointStore endpoints,
    WebhookDeliveryStore deliveries,
    TableStore store,
    IHttpClientFactory httpClients,
    IOptions<LoyaltyOptions> options,
    TimeProvider time,
    ILogger<WebhookDeliverer> logger)
{
    /// <summary>The named HttpClient of deliveries (its handler carries the SSRF guard).</summary>
    public const string ClientName = "webhooks";

    /// <summary>How long after its first attempt a delivery is still retried.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromHours(24);

    private static readonly TimeSpan EndpointCacheTime = TimeSpan.FromSeconds(30);
    private EndpointSnapshot? _cache;

    private sealed record EndpointSnapshot(DateTimeOffset At, IReadOnlyList<WebhookEndpoint> List);

    /// <summary>Forgets the cached endpoint list (after a change through the API).</summary>
    public void Invalidate() => Volatile.Write(ref _cache, null);

    /// <summary>Delivers <paramref name="events"/> (one member's, in order) to every endpoint that wants them.</summary>
    public async Task DeliverAsync(IReadOnlyList<OutboxEvent> events, IReadOnlyList<byte[]> bodies, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(bodies);
        var list = await EndpointsAsync(cancellationToken);
        if (list.Count == 0)
        {
            return;
        }

        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            var body = bodies[i];
            await Task.WhenAll(list.Where(endpoint => endpoint.Wants(e.Type)).Select(async endpoint =>
            {
                var now = time.GetUtcNow();
                var (delivery, claimed) = await deliveries.ClaimAsync(
                    new WebhookDelivery(endpoint.EndpointId, e.Id, e.Type, e.Subject, body, DeliveryStatus.Pending, 0, null, null, now, null, null, null, now, default),
                    cancellationToken);

                // Claimed now, or claimed by an attempt that stopped before it finished: this is the first attempt.
                if (claimed || (delivery.Status == DeliveryStatus.Pending && delivery.Attempts == 0))
                {
                    await AttemptAsync(endpoint, delivery, cancellationToken);
                }
            }));
        }
    }

    /// <summary>The attempt a retry message asks for (nothing when the delivery moved on meanwhile).</summary>
    public async Task RetryAsync(WebhookRetryMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var delivery = await deliveries.GetAsync(message.EndpointId, message.EventId, cancellationToken);
        if (delivery is null || delivery.Status != DeliveryStatus.Retrying)
        {
            return;
        }

        var endpoint = await endpoints.GetAsync(message.EndpointId, cancellationToken);
        if (endpoint is null)
        {
            await deliveries.TryUpdateAsync(delivery with { Status = DeliveryStatus.Parked, LastError = "The endpoint was deleted.", NextAttemptAt = null }, cancellationToken);
            return;
        }

        await AttemptAsync(endpoint, delivery, cancellationToken);
    }

    /// <summary>
    /// Starts a new round of attempts for a delivery (a replay): the delivery as replayed, or the one found when it
    /// changed meanwhile (<c>Replayed</c> false), or null when there is no such delivery.
    /// </summary>
    public async Task<(WebhookDelivery Delivery, bool Replayed)?> ReplayAsync(string endpointId, string eventId, CancellationToken cancellationToken)
    {
        var delivery = await deliveries.GetAsync(endpointId, eventId, cancellationToken);
        if (delivery is null)
        {
            return null;
        }

        // Only a finished delivery starts a new round: one still being attempted has its next attempt queued already.
        if (delivery.Status is not (DeliveryStatus.Parked or DeliveryStatus.Delivered))
        {
            return (delivery, false);
        }

        // The attempt is queued first: a message whose delivery did not move to Retrying finds nothing to do.
        await SendRetryAsync(delivery, TimeSpan.Zero, cancellationToken);
        var now = time.GetUtcNow();
        var replayed = await deliveries.TryUpdateAsync(delivery with { Status = DeliveryStatus.Retrying, Attempts = 0, NextAttemptAt = now, RoundStartedAt = now }, cancellationToken);
        return replayed is null ? (delivery, false) : (replayed, true);
    }

    private async Task AttemptAsync(WebhookEndpoint endpoint, WebhookDelivery delivery, CancellationToken cancellationToken)
    {
        var (ok, status, error) = await PostAsync(endpoint, delivery, cancellationToken);
        var now = time.GetUtcNow();
        var attempts = delivery.Attempts + 1;
        WebhookDelivery next;
        TimeSpan? delay = null;
        if (ok)
        {
            next = delivery with { Status = DeliveryStatus.Delivered, Attempts = attempts, LastStatusCode = status, LastError = null, LastAttemptAt = now, NextAttemptAt = null, DeliveredAt = now };
        }
        else
        {
            var schedule = RetrySchedule(options.Value.WebhookRetrySchedule);
            delay = attempts - 1 < schedule.Count && now + schedule[attempts - 1] - delivery.RoundStartedAt <= MaxAge ? schedule[attempts - 1] : null;
            next = delivery with
            {
                Status = delay is null ? DeliveryStatus.Parked : DeliveryStatus.Retrying,
                Attempts = attempts,
                LastStatusCode = status,
                LastError = error,
                LastAttemptAt = now,
                NextAttemptAt = delay is { } d ? now + d : null,
            };
        }

        // The next attempt is queued before the row says Retrying, so a stop between the two cannot leave a delivery
        // waiting for a message that was never sent (a message whose row did not move finds it not Retrying and stops).
        if (delay is { } wait)
        {
            await SendRetryAsync(delivery, wait, cancellationToken);
        }

        var written = await deliveries.TryUpdateAsync(next, cancellationToken);
        if (written is null)
        {
            logger.LogInformation("Delivery of {EventId} to {EndpointId} moved on meanwhile", delivery.EventId, delivery.EndpointId);
            return;
        }

        if (written.Status == DeliveryStatus.Parked)
        {
            logger.LogWarning("Delivery of {EventId} to {EndpointId} parked after {Attempts} attempts: {Error}", delivery.EventId, delivery.EndpointId, attempts, error);
        }
    }

    private async Task SendRetryAsync(WebhookDelivery delivery, TimeSpan delay, CancellationToken cancellationToken) =>
        await store.Queue(store.Names.WebhookRetriesQueue).SendMessageAsync(
            JsonSerializer.Serialize(new WebhookRetryMessage(delivery.EndpointId, delivery.EventId), ConfigJson.Options), delay, cancellationToken: cancellationToken);

    private async Task<(bool Ok, int? Status, string? Error)> PostAsync(WebhookEndpoint endpoint, WebhookDelivery delivery, CancellationToken cancellationToken)
    {
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint.Url) { Content = new ByteArrayContent(delivery.Body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/cloudevents+json") { CharSet = "utf-8" };
        request.Headers.TryAddWithoutValidation(StandardWebhooks.IdHeader, delivery.EventId);
        request.Headers.TryAddWithoutValidation(StandardWebhooks.TimestampHeader, timestamp.ToString(CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation(StandardWebhooks.SignatureHeader, StandardWebhooks.Sign(endpoint.Secrets.Select(s => s.Secret), delivery.EventId, timestamp, delivery.Body));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(options.Value.WebhookTimeoutSeconds));
        try
        {
            using var response = await httpClients.CreateClient(ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var code = (int)response.StatusCode;
            return response.IsSuccessStatusCode ? (true, code, null) : (false, code, $"HTTP {code} {response.ReasonPhrase}");
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return (false, null, ex is HttpRequestException ? ex.Message : $"No answer within {options.Value.WebhookTimeoutSeconds} s.");
        }
    }

    private async Task<IReadOnlyList<WebhookEndpoint>> EndpointsAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _cache) is { } cached && time.GetUtcNow() - cached.At < EndpointCacheTime)
        {
            return cached.List;
        }

        var list = await endpoints.ListAsync(cancellationToken);
        Volatile.Write(ref _cache, new EndpointSnapshot(time.GetUtcNow(), list));
        return list;
    }

    /// <summary>The delays between attempts: a comma-separated list of durations such as <c>5s,5m,30m,2h</c>.</summary>
    public static IReadOnlyList<TimeSpan> RetrySchedule(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ParseDelay)];
    }

    private static TimeSpan ParseDelay(string part)
    {
        if (part.Length >= 2 && double.TryParse(part[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= 0)
        {
            switch (part[^1])
            {
                case 's': return TimeSpan.FromSeconds(n);
                case 'm': return TimeSpan.FromMinutes(n);
                case 'h': return TimeSpan.FromHours(n);
                default: break;
            }
        }

        throw new FormatException($"'{part}' is not a delay such as 5s, 5m or 2h.");
    }
}
