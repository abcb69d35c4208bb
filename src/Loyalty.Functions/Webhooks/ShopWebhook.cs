using System.Text.Json;
using System.Text.RegularExpressions;
using Loyalty.Domain.Webhooks;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Http;
using Loyalty.Storage.Org;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Webhooks;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Webhooks;

/// <summary>
/// <c>POST /api/webhooks/shops/{shopId}/orders</c>: no API key; the shop signs the raw body (see
/// <see cref="WebhookSignature"/>). A bad, stale or missing signature is 401 and nothing is queued; a valid event is
/// queued and answered 202. The shop is a store of the org tree.
/// </summary>
internal sealed partial class ShopWebhook(ShopSecretStore secrets, OrgStore org, TableStore store, TimeProvider time, IOptions<LoyaltyOptions> options)
{
    private static readonly string[] Types = ["order.paid", "order.refunded", "order.cancelled"];

    public async Task<IResult> HandleAsync(HttpContext http, string shopId)
    {
        ArgumentNullException.ThrowIfNull(http);
        var ct = http.RequestAborted;
        if ((await org.GetRequiredAsync(ct)).FindStore(shopId) is null)
        {
            return Problems.Create(StatusCodes.Status404NotFound, "shop_unknown", $"No shop '{shopId}'.");
        }

        var (raw, problem) = await JsonBody.ReadRawAsync(http.Request, options.Value.MaxRequestBodyBytes, ct);
        if (problem is not null)
        {
            return problem;
        }

        // The signature is checked over the raw bytes before anything is parsed.
        var active = await secrets.ActiveSecretsAsync(shopId, ct);
        var refused = WebhookSignature.Verify(
            http.Request.Headers["X-Loyalty-Timestamp"], http.Request.Headers["X-Loyalty-Signature"], raw!, active, time.GetUtcNow());
        if (refused is not null)
        {
            return Problems.Create(StatusCodes.Status401Unauthorized, refused.Code, refused.Message);
        }

        var (body, malformed) = JsonBody.Parse(raw!);
        if (malformed is not null)
        {
            return malformed;
        }

        var (element, _) = body!.Value;
        OrderEvent? e;
        try
        {
            e = element.Deserialize<OrderEvent>(JsonDefaults.Options);
        }
        catch (JsonException ex)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "event_invalid", $"The event does not have the expected shape ({ex.Path}).");
        }

        if (Validate(e) is { } invalid)
        {
            return invalid;
        }

        var message = new OrderEventMessage("shop", shopId, e! with { StoreId = shopId }, Hashing.Sha256Hex(raw!), 0);
        await store.Queue(store.Names.OrderEventsQueue).SendMessageAsync(JsonSerializer.Serialize(message, JsonDefaults.Options), cancellationToken: ct);
        return TypedResults.Accepted((string?)null, new { eventId = e!.EventId, status = "queued" });
    }

    internal static IResult? Validate(OrderEvent? e)
    {
        if (e?.EventId is null || !EventIdPattern().IsMatch(e.EventId))
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "event_invalid", "eventId is 1-100 characters of letters, digits, '.', '_', ':' or '-'.", "eventId");
        }

        if (e.Type is null || !Types.Contains(e.Type))
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "event_invalid", "type is order.paid, order.refunded or order.cancelled.", "type");
        }

        if (e.OrderId is null || !OrderIdPattern().IsMatch(e.OrderId))
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "event_invalid", "orderId is 1-40 characters of letters, digits, '.', '_' or '-'.", "orderId");
        }

        if (e.Type == "order.paid" && (e.Member is null || e.Lines is not { Count: > 0 }))
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "event_invalid", "A paid order names its member and its lines.", "member");
        }

        return null;
    }

    [GeneratedRegex("^[A-Za-z0-9._:-]{1,100}$")]
    private static partial Regex EventIdPattern();

    [GeneratedRegex("^[A-Za-z0-9._-]{1,40}$")]
    private static partial Regex OrderIdPattern();
}
