using Loyalty.Testing;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Loyalty.Domain.Webhooks;
using Loyalty.Functions.Tests.Support;
using Xunit;

namespace Loyalty.Functions.Tests.Webhooks;

/// <summary>Intake only (no listeners), so the queue can be inspected.</summary>
public sealed class WebhookIntakeApp : LoyaltyApp
{
    protected override bool LocalTriggers => false;
}

public sealed class WebhookIntakeTests(WebhookIntakeApp app) : IClassFixture<WebhookIntakeApp>
{
    [Fact]
    public async Task Secrets_ShownOnceAtMostTwo_ListNeverShowsThem()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var first = await admin.PostOkAsync("/api/config/shops/gz-001/secrets", new { });
        var second = await admin.PostOkAsync("/api/config/shops/gz-001/secrets", new { });
        var third = await admin.PostAsync("/api/config/shops/gz-001/secrets", new { }, null);
        var list = await admin.GetStringAsync("/api/config/shops/gz-001/secrets");

        Assert.StartsWith("whsec_", first.GetProperty("secret").GetString(), StringComparison.Ordinal);
        await third.AssertProblemAsync(HttpStatusCode.Conflict, "too_many_secrets");
        Assert.Contains(first.GetProperty("secretId").GetString()!, list, StringComparison.Ordinal);
        Assert.DoesNotContain(first.GetProperty("secret").GetString()!, list, StringComparison.Ordinal);
        Assert.DoesNotContain(second.GetProperty("secret").GetString()!, list, StringComparison.Ordinal);
        using var terminal = app.Client(await app.KeyForAsync("terminal", "gz-001"));
        await (await terminal.PostAsync("/api/config/shops/gz-001/secrets", new { }, null)).AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden_role");
        await (await admin.PostAsync("/api/config/shops/nowhere/secrets", new { }, null)).AssertProblemAsync(HttpStatusCode.NotFound, "shop_unknown");
    }

    [Fact]
    public async Task SignatureMatrix_OnlyAValidFreshSignatureIsQueued_RotationWorks()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var old = await admin.PostOkAsync("/api/config/shops/hz-001/secrets", new { });
        var oldSecret = old.GetProperty("secret").GetString()!;
        using var shop = app.Client();
        var body = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { eventId = "evt-1", type = "order.cancelled", orderId = "O-1" }));
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var queued = await QueuedAsync();

        async Task<HttpResponseMessage> Send(byte[] content, string? ts, string? signature)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/webhooks/shops/hz-001/orders") { Content = new ByteArrayContent(content) };
            request.Content.Headers.ContentType = new("application/json");
            if (ts is not null)
            {
                request.Headers.Add("X-Loyalty-Timestamp", ts);
            }

            if (signature is not null)
            {
                request.Headers.Add("X-Loyalty-Signature", signature);
            }

            return await shop.SendAsync(request);
        }

        var flipped = (byte[])body.Clone();
        flipped[10] ^= 0x20;
        var stale = now - 600;
        await (await Send(flipped, $"{now}", WebhookSignature.Sign(oldSecret, now, body))).AssertProblemAsync(HttpStatusCode.Unauthorized, "signature_invalid");
        await (await Send(body, $"{stale}", WebhookSignature.Sign(oldSecret, stale, body))).AssertProblemAsync(HttpStatusCode.Unauthorized, "signature_expired");
        await (await Send(body, null, WebhookSignature.Sign(oldSecret, now, body))).AssertProblemAsync(HttpStatusCode.Unauthorized, "signature_missing");
        await (await Send(body, $"{now}", null)).AssertProblemAsync(HttpStatusCode.Unauthorized, "signature_missing");
        await (await Send(body, $"{now}", WebhookSignature.Sign("whsec_someone-else", now, body))).AssertProblemAsync(HttpStatusCode.Unauthorized, "signature_invalid");
        Assert.Equal(queued, await QueuedAsync());

        var rotated = (await admin.PostOkAsync("/api/config/shops/hz-001/secrets", new { })).GetProperty("secret").GetString()!;
        Assert.Equal(HttpStatusCode.Accepted, (await Send(body, $"{now}", WebhookSignature.Sign(oldSecret, now, body))).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await Send(body, $"{now}", WebhookSignature.Sign(rotated, now, body))).StatusCode);
        Assert.Equal(queued + 2, await QueuedAsync());

        await admin.DeleteAsync($"/api/config/shops/hz-001/secrets/{old.GetProperty("secretId").GetString()}");
        await (await Send(body, $"{now}", WebhookSignature.Sign(oldSecret, now, body))).AssertProblemAsync(HttpStatusCode.Unauthorized, "signature_invalid");
        Assert.Equal(queued + 2, await QueuedAsync());
    }

    [Fact]
    public async Task Intake_OversizedOrInvalidEvents_RefusedAndNotQueued()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var secret = (await admin.PostOkAsync("/api/config/shops/sh-001/secrets", new { })).GetProperty("secret").GetString()!;
        using var shop = app.Client();
        var queued = await QueuedAsync();
        async Task<HttpResponseMessage> Send(string json)
        {
            var bytes = Encoding.UTF8.GetBytes(json);
            var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/webhooks/shops/sh-001/orders") { Content = new ByteArrayContent(bytes) };
            request.Content.Headers.ContentType = new("application/json");
            request.Headers.Add("X-Loyalty-Timestamp", $"{now}");
            request.Headers.Add("X-Loyalty-Signature", WebhookSignature.Sign(secret, now, bytes));
            return await shop.SendAsync(request);
        }

        await (await Send("{\"eventId\":\"e\",\"type\":\"order.paid\",\"orderId\":\"O\",\"pad\":\"" + new string('x', 70_000) + "\"}")).AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge, "body_too_large");
        await (await Send("""{"eventId":"e 1","type":"order.paid","orderId":"O"}""")).AssertProblemAsync(HttpStatusCode.BadRequest, "event_invalid");
        await (await Send("""{"eventId":"e1","type":"order.shipped","orderId":"O"}""")).AssertProblemAsync(HttpStatusCode.BadRequest, "event_invalid");
        await (await Send("""{"eventId":"e1","type":"order.paid","orderId":"O"}""")).AssertProblemAsync(HttpStatusCode.BadRequest, "event_invalid");
        await (await Send("""{"eventId":"e1","type":"order.paid","orderId":"O","lines":"x"}""")).AssertProblemAsync(HttpStatusCode.BadRequest, "event_invalid");
        Assert.Equal(queued, await QueuedAsync());
    }

    private async Task<int> QueuedAsync() => (await app.Store.Queue(app.Names.OrderEventsQueue).PeekAsync()).Count;
}

public sealed class WebhookProcessingTests(LoyaltyApp app) : IClassFixture<LoyaltyApp>
{
    [Fact]
    public async Task SameWebhookFiveTimes_AccruesOnce()
    {
        var (shop, memberId, phone) = await SetupAsync("sh-001");
        var paid = new { eventId = "evt-paid-" + Guid.NewGuid().ToString("N")[..8], type = "order.paid", orderId = "O-" + Guid.NewGuid().ToString("N")[..8], member = new { phone }, lines = new[] { new { sku = "A", category = "food", quantity = 1, unitPrice = 10_000 } } };

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await shop.SendAsync(paid)).StatusCode);
        }

        using var admin = app.Client(LoyaltyApp.AdminKey);
        await Api.EventuallyAsync(async () => await StatusAsync(admin, "sh-001", paid.eventId) == "processed", "the paid event");
        await Task.Delay(1500);
        Assert.Equal(100, (await admin.BalancesAsync(memberId)).Points);
        Assert.Equal(1, await admin.LedgerCountAsync(memberId));
    }

    [Fact]
    public async Task RefundBeforeItsOrder_WaitsThenApplies_CancelOfUnpaid_Ignored_UnknownMember_Parked()
    {
        var (shop, memberId, _) = await SetupAsync("hz-001");
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var order = "O-" + Guid.NewGuid().ToString("N")[..8];
        var refund = new { eventId = "evt-ref-" + order, type = "order.refunded", orderId = order, refundId = "R1", amount = 4_000 };
        var paid = new { eventId = "evt-paid-" + order, type = "order.paid", orderId = order, member = new { memberId }, lines = new[] { new { sku = "A", category = "food", quantity = 1, unitPrice = 8_000 } } };
        var cancelUnpaid = new { eventId = "evt-cancel-" + order, type = "order.cancelled", orderId = "never-" + order };
        var stranger = new { eventId = "evt-who-" + order, type = "order.paid", orderId = "X-" + order, member = new { phone = "13700000000" }, lines = paid.lines };

        await shop.SendAsync(refund);
        await Api.EventuallyAsync(async () => await StatusAsync(admin, "hz-001", refund.eventId) == "waiting", "the refund to wait");
        await shop.SendAsync(paid);
        await shop.SendAsync(cancelUnpaid);
        await shop.SendAsync(stranger);

        await Api.EventuallyAsync(async () => await StatusAsync(admin, "hz-001", refund.eventId) == "processed", "the refund after its order");
        await Api.EventuallyAsync(async () => await StatusAsync(admin, "hz-001", cancelUnpaid.eventId) == "ignored", "the cancellation");
        await Api.EventuallyAsync(async () => await StatusAsync(admin, "hz-001", stranger.eventId) == "parked", "the unknown member's event");
        Assert.Equal(40, (await admin.BalancesAsync(memberId)).Points); // 80 earned, half clawed back
        var parked = (await admin.GetJsonAsync("/api/ops/order-events?status=parked")).GetProperty("items");
        Assert.Contains(parked.EnumerateArray(), p => p.GetProperty("eventId").GetString() == stranger.eventId && p.GetProperty("reason").GetString() == "member_unknown");
    }

    [Fact]
    public async Task PosEvent_ForAStoreNotYetInTheOrg_IsPoisoned_ThenReplayedAfterTheFix()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (memberId, _) = await app.EnrolAsync();
        var pos = JsonSerializer.Serialize(new { eventId = "pos-" + Guid.NewGuid().ToString("N")[..8], type = "order.paid", orderId = "P-1", storeId = "new-001", member = new { memberId }, lines = new[] { new { sku = "A", category = "food", quantity = 1, unitPrice = 5_000 } } });
        await app.Store.Queue(app.Names.PosSalesQueue).SendMessageAsync(pos);

        await Api.EventuallyAsync(async () => (await admin.GetJsonAsync("/api/ops/queues/" + app.Names.PosSalesQueue + "/poison")).GetProperty("items").GetArrayLength() == 1, "the poison message");
        var org = await admin.GetJsonAsync("/api/config/org");
        var nodes = org.GetProperty("nodes").EnumerateArray().Select(n => JsonSerializer.Deserialize<Dictionary<string, string>>(n.GetRawText())!).ToList();
        nodes.Add(new() { ["id"] = "new-001", ["kind"] = "store", ["name"] = "New", ["parentId"] = "east" });
        (await admin.PutAsJsonAsync("/api/config/org", new { nodes })).EnsureSuccessStatusCode();
        var replay = await admin.PostOkAsync("/api/ops/queues/" + app.Names.PosSalesQueue + "/poison/replay", new { });

        Assert.Equal(1, replay.GetProperty("replayed").GetInt32());
        await Api.EventuallyAsync(async () => (await admin.BalancesAsync(memberId)).Points == 50, "the replayed POS sale");
        Assert.Equal(0, (await admin.GetJsonAsync("/api/ops/queues/" + app.Names.PosSalesQueue + "/poison")).GetProperty("items").GetArrayLength());
        await (await admin.GetAsync("/api/ops/queues/secret-queue/poison")).AssertProblemAsync(HttpStatusCode.NotFound, "queue_unknown");
    }

    private async Task<(SigningShop Shop, string MemberId, string Phone)> SetupAsync(string shopId)
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var secret = (await admin.PostOkAsync($"/api/config/shops/{shopId}/secrets", new { })).GetProperty("secret").GetString()!;
        var phone = LoyaltyApp.NewPhone();
        var member = await (await admin.EnrolAsync(new { phone, name = "Online", storeId = "sh-001" }, Guid.NewGuid().ToString())).JsonAsync();
        return (new SigningShop(app.Client(), shopId, secret), member.GetProperty("memberId").GetString()!, phone);
    }

    private static async Task<string?> StatusAsync(HttpClient admin, string storeId, string eventId)
    {
        var items = (await admin.GetJsonAsync("/api/ops/order-events")).GetProperty("items");
        return items.EnumerateArray().Where(i => i.GetProperty("key").GetString() == "shop-" + storeId && i.GetProperty("eventId").GetString() == eventId)
            .Select(i => i.GetProperty("status").GetString()).FirstOrDefault();
    }
}

/// <summary>An online shop that signs what it sends.</summary>
internal sealed class SigningShop(HttpClient client, string shopId, string secret)
{
    public Task<HttpResponseMessage> SendAsync(object body)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(body);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/webhooks/shops/{shopId}/orders") { Content = new ByteArrayContent(bytes) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.Add("X-Loyalty-Timestamp", $"{now}");
        request.Headers.Add("X-Loyalty-Signature", WebhookSignature.Sign(secret, now, bytes));
        return client.SendAsync(request);
    }
}
