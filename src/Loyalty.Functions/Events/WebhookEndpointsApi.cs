using Loyalty.Domain.Events;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Http;
using Loyalty.Storage.Audit;
using Loyalty.Storage.Webhooks;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Events;

/// <summary>Body of <c>POST /api/webhook-endpoints</c>.</summary>
internal sealed record CreateEndpointRequest(string? Url, IReadOnlyList<string>? EventTypes, string? Description);

/// <summary>A secret as listed: its id and age, never its value.</summary>
internal sealed record SecretView(string SecretId, DateTimeOffset CreatedAt);

/// <summary>An endpoint as the API shows it; <see cref="Secret"/> only in the answer that made it.</summary>
internal sealed record EndpointView(
    string EndpointId, string Url, IReadOnlyList<string> EventTypes, string? Description, IReadOnlyList<SecretView> Secrets,
    DateTimeOffset CreatedAt, string CreatedBy, string? Secret = null)
{
    public static EndpointView From(WebhookEndpoint e, string? secret = null) =>
        new(e.EndpointId, e.Url, e.EventTypes, e.Description, [.. e.Secrets.Select(s => new SecretView(s.SecretId, s.CreatedAt))], e.CreatedAt, e.CreatedBy, secret);
}

/// <summary>A delivery as the log shows it.</summary>
internal sealed record DeliveryView(
    string EventId, string EventType, string Subject, DeliveryStatus Status, int Attempts, int? LastStatusCode, string? LastError,
    DateTimeOffset CreatedAt, DateTimeOffset? LastAttemptAt, DateTimeOffset? NextAttemptAt, DateTimeOffset? DeliveredAt)
{
    public static DeliveryView From(WebhookDelivery d) =>
        new(d.EventId, d.EventType, d.Subject, d.Status, d.Attempts, d.LastStatusCode, d.LastError, d.CreatedAt, d.LastAttemptAt, d.NextAttemptAt, d.DeliveredAt);
}

/// <summary>
/// Webhook endpoints (HQ admins, ops; audited): register one (<c>POST /api/webhook-endpoints</c>, the secret is shown
/// once), list and read them, delete one; rotate a secret by adding a second (<c>POST .../secrets</c>, deliveries are
/// signed with both) and deleting the old one; read the delivery log (<c>GET .../deliveries</c>) and replay a
/// delivery (<c>POST .../deliveries/{eventId}/replay</c>). <c>GET /api/events/catalogue</c> lists the event types.
/// </summary>
internal sealed class WebhookEndpointsApi(
    WebhookEndpointStore endpoints,
    WebhookDeliveryStore deliveries,
    WebhookDeliverer deliverer,
    WebhookUrlGuard guard,
    AuditLog audit,
    IOptions<LoyaltyOptions> options,
    TimeProvider time)
{
    public async Task<IResult> CreateAsync(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var ct = http.RequestAborted;
        var (body, problem) = await JsonBody.ReadAsync<CreateEndpointRequest>(http.Request, options.Value.MaxRequestBodyBytes, ["endpointId", "secret", "secrets", "createdAt", "createdBy"], ct);
        if (problem is not null)
        {
            return problem;
        }

        var request = body!.Value;
        if (guard.CheckSyntax(request.Url) is { } urlProblem)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "url_invalid", urlProblem, "url");
        }

        if (await guard.CheckHostAsync(new Uri(request.Url!), ct) is { } hostProblem)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "url_forbidden", hostProblem, "url");
        }

        var types = request.EventTypes ?? [];
        if (types.Count == 0 || types.Count > EventCatalogue.All.Count + 1)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "event_types_invalid", "eventTypes lists the catalogue's types to deliver, or [\"*\"] for all.", "eventTypes");
        }

        if (types.FirstOrDefault(t => t != "*" && EventCatalogue.Find(t) is null) is { } unknown)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "event_type_unknown", $"'{unknown}' is not in the event catalogue (GET /api/events/catalogue).", "eventTypes");
        }

        if (request.Description is { Length: > 200 })
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "description_invalid", "description is at most 200 characters.", "description");
        }

        if ((await endpoints.ListAsync(ct)).Count >= WebhookEndpointStore.MaxEndpoints)
        {
            return Problems.Create(StatusCodes.Status409Conflict, "too_many_endpoints", $"A chain has at most {WebhookEndpointStore.MaxEndpoints} webhook endpoints.");
        }

        var created = await endpoints.CreateAsync(request.Url!, [.. types.Distinct(StringComparer.Ordinal)], request.Description, http.Caller().Id, ct);
        deliverer.Invalidate();
        await audit.WriteAsync(new AuditRecord(http.Caller().Id, "webhooks.endpoint.create", "hq", created.EndpointId, null, created.Url, time.GetUtcNow()), ct);
        return TypedResults.Created($"/api/webhook-endpoints/{created.EndpointId}", EndpointView.From(created, created.Secrets[0].Secret));
    }

    public async Task<IResult> ListAsync(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        return TypedResults.Ok(new { items = (await endpoints.ListAsync(http.RequestAborted)).Select(e => EndpointView.From(e)) });
    }

    public async Task<IResult> GetAsync(HttpContext http, string endpointId)
    {
        ArgumentNullException.ThrowIfNull(http);
        return await endpoints.GetAsync(endpointId, http.RequestAborted) is { } endpoint ? TypedResults.Ok(EndpointView.From(endpoint)) : NotFound(endpointId);
    }

    public async Task<IResult> DeleteAsync(HttpContext http, string endpointId)
    {
        ArgumentNullException.ThrowIfNull(http);
        if (await endpoints.GetAsync(endpointId, http.RequestAborted) is null)
        {
            return NotFound(endpointId);
        }

        await endpoints.DeleteAsync(endpointId, http.RequestAborted);
        deliverer.Invalidate();
        await audit.WriteAsync(new AuditRecord(http.Caller().Id, "webhooks.endpoint.delete", "hq", endpointId, null, null, time.GetUtcNow()), http.RequestAborted);
        return TypedResults.NoContent();
    }

    public async Task<IResult> AddSecretAsync(HttpContext http, string endpointId)
    {
        ArgumentNullException.ThrowIfNull(http);
        var endpoint = await endpoints.GetAsync(endpointId, http.RequestAborted);
        if (endpoint is null)
        {
            return NotFound(endpointId);
        }

        if (endpoint.Secrets.Count >= WebhookEndpointStore.MaxSecrets)
        {
            return Problems.Create(StatusCodes.Status409Conflict, "too_many_secrets", $"An endpoint has at most {WebhookEndpointStore.MaxSecrets} live secrets; delete the old one first.");
        }

        var secret = endpoints.NewSecret();
        if (!await TryUpdateAsync(endpoint with { Secrets = [.. endpoint.Secrets, secret] }, http.RequestAborted))
        {
            return Changed(endpointId);
        }

        await audit.WriteAsync(new AuditRecord(http.Caller().Id, "webhooks.secret.create", "hq", endpointId, null, secret.SecretId, time.GetUtcNow()), http.RequestAborted);
        return TypedResults.Created($"/api/webhook-endpoints/{endpointId}/secrets/{secret.SecretId}", new { secretId = secret.SecretId, secret = secret.Secret, createdAt = secret.CreatedAt });
    }

    public async Task<IResult> DeleteSecretAsync(HttpContext http, string endpointId, string secretId)
    {
        ArgumentNullException.ThrowIfNull(http);
        var endpoint = await endpoints.GetAsync(endpointId, http.RequestAborted);
        if (endpoint is null)
        {
            return NotFound(endpointId);
        }

        if (endpoint.Secrets.All(s => s.SecretId != secretId))
        {
            return Problems.Create(StatusCodes.Status404NotFound, "secret_not_found", $"Endpoint {endpointId} has no secret '{secretId}'.");
        }

        if (endpoint.Secrets.Count == 1)
        {
            return Problems.Create(StatusCodes.Status409Conflict, "last_secret", "This is the endpoint's only secret: add the new one first, then delete this one.");
        }

        if (!await TryUpdateAsync(endpoint with { Secrets = [.. endpoint.Secrets.Where(s => s.SecretId != secretId)] }, http.RequestAborted))
        {
            return Changed(endpointId);
        }

        await audit.WriteAsync(new AuditRecord(http.Caller().Id, "webhooks.secret.delete", "hq", endpointId, secretId, null, time.GetUtcNow()), http.RequestAborted);
        return TypedResults.NoContent();
    }

    public async Task<IResult> ListDeliveriesAsync(HttpContext http, string endpointId)
    {
        ArgumentNullException.ThrowIfNull(http);
        DeliveryStatus? status = null;
        if (http.Request.Query["status"].ToString() is { Length: > 0 } text)
        {
            if (!Enum.TryParse<DeliveryStatus>(text, ignoreCase: true, out var parsed) || int.TryParse(text, out _))
            {
                return Problems.Create(StatusCodes.Status400BadRequest, "status_invalid", "status is pending, delivered, retrying or parked.", "status");
            }

            status = parsed;
        }

        if (await endpoints.GetAsync(endpointId, http.RequestAborted) is null)
        {
            return NotFound(endpointId);
        }

        var list = await deliveries.ListAsync(endpointId, status, 1000, http.RequestAborted);
        return TypedResults.Ok(new { items = list.Select(DeliveryView.From) });
    }

    public async Task<IResult> ReplayAsync(HttpContext http, string endpointId, string eventId)
    {
        ArgumentNullException.ThrowIfNull(http);
        if (await endpoints.GetAsync(endpointId, http.RequestAborted) is null)
        {
            return NotFound(endpointId);
        }

        var result = await deliverer.ReplayAsync(endpointId, eventId, http.RequestAborted);
        if (result is not { } outcome)
        {
            return Problems.Create(StatusCodes.Status404NotFound, "delivery_not_found", $"Endpoint {endpointId} has no delivery of event '{eventId}'.");
        }

        if (!outcome.Replayed)
        {
            return Problems.Create(StatusCodes.Status409Conflict, "delivery_changed", $"The delivery of '{eventId}' is still being attempted, or changed meanwhile: only a parked or delivered one is replayed; read the log and try again.");
        }

        var replayed = outcome.Delivery;
        await audit.WriteAsync(new AuditRecord(http.Caller().Id, "webhooks.delivery.replay", "hq", endpointId + "/" + eventId, null, null, time.GetUtcNow()), http.RequestAborted);
        return TypedResults.Accepted($"/api/webhook-endpoints/{endpointId}/deliveries?status=retrying", DeliveryView.From(replayed));
    }

    public static IResult Catalogue() =>
        TypedResults.Ok(new
        {
            specversion = "1.0",
            source = EventCatalogue.Source,
            items = EventCatalogue.All.Select(k => new { type = k.Type, version = k.Version, dataschema = k.DataSchema, description = k.Description }),
        });

    private async Task<bool> TryUpdateAsync(WebhookEndpoint endpoint, CancellationToken ct)
    {
        try
        {
            await endpoints.UpdateAsync(endpoint, ct);
            deliverer.Invalidate();
            return true;
        }
        catch (Azure.RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            return false;
        }
    }

    private static IResult NotFound(string endpointId) =>
        Problems.Create(StatusCodes.Status404NotFound, "endpoint_not_found", $"No webhook endpoint '{endpointId}'.");

    private static IResult Changed(string endpointId) =>
        Problems.Create(StatusCodes.Status409Conflict, "endpoint_changed", $"Endpoint {endpointId} changed meanwhile; read it again.");
}
