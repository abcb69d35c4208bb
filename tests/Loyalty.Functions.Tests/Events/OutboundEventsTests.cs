using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Storage.Queues;
using Loyalty.Functions.Tests.Support;
using Loyalty.Storage.Events;
using Loyalty.Storage.Tables;
using Loyalty.Testing;
using Xunit;

namespace Loyalty.Functions.Tests.Events;

/// <summary>
/// Integration events end to end: the real app (local host, worker, Azurite) and a real HTTP receiver on loopback,
/// registered as a webhook endpoint through the API.
/// </summary>
public sealed class OutboundEventsTests(OutboundEventsTests.App app) : IClassFixture<OutboundEventsTests.App>
{
    /// <summary>The app behind the fault proxy (faults off unless a test forces one), with a receiver for its webhooks.</summary>
    public sealed class App : LoyaltyApp
    {
        protected override bool FaultProxy => true;

        public WebhookReceiver Receiver { get; private set; } = null!;

        public override async Task InitializeAsync()
        {
            Receiver = await WebhookReceiver.StartAsync();
            await base.InitializeAsync();
        }

        public override async Task DisposeAsync()
        {
            await base.DisposeAsync();
            await Receiver.DisposeAsync();
        }
    }

    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    private async Task<(string EndpointId, string Secret)> RegisterAsync(HttpClient admin, string path, params string[] types)
    {
        var response = await admin.PostAsJsonAsync("/api/webhook-endpoints", new { url = new Uri(app.Receiver.BaseAddress, path).ToString(), eventTypes = types, description = "test " + path });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.JsonAsync();
        var secret = body.GetProperty("secret").GetString()!;
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        return (body.GetProperty("endpointId").GetString()!, secret);
    }

    private List<Receipt> ReceivedFor(string path, string memberId) =>
        [.. app.Receiver.Receipts.Where(r => r.Path == path && r.Answered < 300 && r.Json.GetProperty("subject").GetString() == memberId)];

    [Fact]
    public async Task EachChange_ReachesTheReceiverOnce_InTheMembersOrder_SignedAsStandardWebhooks()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (_, secret) = await RegisterAsync(admin, "/all", "*");
        var (memberId, card) = await app.EnrolAsync();

        // A day of a member: top-up, a sale paid partly with stored value, its refund, an adjustment, a freeze and unfreeze.
        await admin.PostOkAsync($"/api/members/{memberId}/top-ups", new { amount = 10_000, storeId = "sh-001" }, Guid.NewGuid().ToString());
        var saleId = "S-" + Guid.NewGuid().ToString("N")[..20];
        await admin.PostOkAsync("/api/sales", new
        {
            saleId,
            storeId = "sh-001",
            memberId,
            lines = new[] { new { sku = "MILK", category = "dairy", quantity = 2, unitPrice = 2_550 } },
            payWithStoredValue = 3_000,
        }, Guid.NewGuid().ToString());
        await admin.PostOkAsync($"/api/sales/{saleId}/refunds", new { refundId = "r1" }, Guid.NewGuid().ToString());
        await admin.PostOkAsync($"/api/members/{memberId}/adjustments", new { points = 50, reason = "goodwill" }, Guid.NewGuid().ToString());
        await admin.PostOkAsync($"/api/cards/{card}/freeze", new { });
        await admin.PostOkAsync($"/api/cards/{card}/unfreeze", new { });

        string[] expected =
        [
            "member.enrolled", "stored_value.topped_up", "sale.recorded", "stored_value.spent", "points.earned",
            "sale.refunded", "stored_value.refunded", "points.adjusted", "points.adjusted", "card.status_changed", "card.status_changed",
        ];
        await Api.EventuallyAsync(
            () => Task.FromResult(ReceivedFor("/all", memberId).Count >= expected.Length),
            "every event of the member at the receiver",
            () => string.Join(", ", ReceivedFor("/all", memberId).Select(r => r.Json.GetProperty("type").GetString())));
        await Task.Delay(1500); // anything sent twice would arrive now
        var received = ReceivedFor("/all", memberId);

        // Once per change, in the member's order: ids unique, sequences 1..n as they arrived.
        Assert.Equal(expected, received.Select(r => r.Json.GetProperty("type").GetString()));
        Assert.Equal(received.Count, received.Select(r => r.Id).Distinct().Count());
        Assert.Equal(Enumerable.Range(1, received.Count).Select(i => i.ToString("D12", System.Globalization.CultureInfo.InvariantCulture)), received.Select(r => r.Json.GetProperty("sequence").GetString()));

        foreach (var r in received)
        {
            Assert.True(WebhookReceiver.Verify(r, secret), $"signature of {r.Id}");
            Assert.False(WebhookReceiver.Verify(r, "whsec_" + Convert.ToBase64String(new byte[32])), "a wrong secret must not verify");
            Assert.Equal(r.Id, r.Json.GetProperty("id").GetString());
            Assert.Equal("1.0", r.Json.GetProperty("specversion").GetString());
            Assert.Equal("/loyalty", r.Json.GetProperty("source").GetString());
            Assert.StartsWith("application/cloudevents+json", r.ContentType, StringComparison.Ordinal);
        }

        // The data says what happened.
        var topUp = received[1].Json.GetProperty("data");
        Assert.Equal(10_000, topUp.GetProperty("principal").GetInt64());
        Assert.Equal(10_000, topUp.GetProperty("balances").GetProperty("principal").GetInt64());
        Assert.Equal(saleId, received[2].Json.GetProperty("data").GetProperty("saleId").GetString());
        Assert.Equal(-3_000, received[3].Json.GetProperty("data").GetProperty("principal").GetInt64() + received[3].Json.GetProperty("data").GetProperty("bonus").GetInt64());
        Assert.Equal("frozen", received[9].Json.GetProperty("data").GetProperty("status").GetString());
        Assert.Equal("active", received[10].Json.GetProperty("data").GetProperty("status").GetString());

        // The same events went to the transport (the integration-events queue standing in for the topic), in order.
        // (The queue is read to its end: other tests' members publish there too, and nothing else consumes it.)
        var queue = new QueueClient(app.Azurite.Server.ConnectionString, app.Names.IntegrationEventsQueue, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        var published = new List<JsonElement>();
        for (var batch = (await queue.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(5))).Value; batch.Length > 0; batch = (await queue.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(5))).Value)
        {
            // Each message is a CloudEvents JSON batch (an array of structured events) of one or more dispatches.
            foreach (var json in batch.SelectMany(m => JsonDocument.Parse(m.Body.ToArray()).RootElement.EnumerateArray()))
            {
                if (json.GetProperty("subject").GetString() == memberId)
                {
                    published.Add(json);
                }
            }
        }

        Assert.Equal(received.Select(r => r.Id), published.Select(p => p.GetProperty("id").GetString()));

        // Nothing is left in the member's outbox.
        await OutboxEmptiesAsync(memberId);

        // The welcome SMS went out as its own stream's event, once, for the gateway (without the phone number).
        var welcome = $"notification-{memberId}-welcome";
        await Api.EventuallyAsync(() => Task.FromResult(ReceivedFor("/all", welcome).Count == 1), "notification.requested of the welcome SMS");
        var notification = ReceivedFor("/all", welcome)[0];
        Assert.Equal("notification.requested", notification.Json.GetProperty("type").GetString());
        Assert.Equal(welcome + "-1", notification.Id);
        Assert.Equal(memberId, notification.Json.GetProperty("data").GetProperty("memberId").GetString());
        Assert.True(WebhookReceiver.Verify(notification, secret));
    }

    [Fact]
    public async Task MoreKindsOfChange_EachHaveTheirEvent_AndTheStreamStaysWhole()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (_, secret) = await RegisterAsync(admin, "/more", "*");
        var (memberId, _) = await app.EnrolAsync();
        await admin.PostOkAsync($"/api/members/{memberId}/adjustments", new { points = 100, reason = "welcome" }, Guid.NewGuid().ToString());
        await admin.PostOkAsync($"/api/members/{memberId}/redemptions", new { points = 50, storeId = "sh-001" }, Guid.NewGuid().ToString());
        (await admin.PutAsJsonAsync($"/api/members/{memberId}/tags", new { tags = new[] { "vip-event" } })).EnsureSuccessStatusCode();
        await admin.PostOkAsync($"/api/members/{memberId}/cards", new { cardType = "linked" }, Guid.NewGuid().ToString());
        (await admin.SendAsync(Api.Json(HttpMethod.Put, $"/api/members/{memberId}/tier", JsonSerializer.Serialize(new { tier = "gold", reason = "VIP customer" }), Guid.NewGuid().ToString()))).EnsureSuccessStatusCode();

        string[] expected = ["member.enrolled", "points.adjusted", "points.redeemed", "member.updated", "card.issued", "tier.changed"];
        await Api.EventuallyAsync(
            () => Task.FromResult(expected.All(t => ReceivedFor("/more", memberId).Any(r => r.Json.GetProperty("type").GetString() == t))),
            "an event of each kind",
            () => string.Join(", ", ReceivedFor("/more", memberId).Select(r => r.Json.GetProperty("type").GetString())));
        await Task.Delay(1500);
        var received = ReceivedFor("/more", memberId);

        // Whatever else the programme adds (an upgrade gift, say), the stream is whole: 1..n, once each, in order.
        Assert.Equal(Enumerable.Range(1, received.Count).Select(i => i.ToString("D12", System.Globalization.CultureInfo.InvariantCulture)), received.Select(r => r.Json.GetProperty("sequence").GetString()));
        Assert.Equal(expected, received.Select(r => r.Json.GetProperty("type").GetString()!).Where(expected.Contains).Distinct());
        Assert.All(received, r => Assert.True(WebhookReceiver.Verify(r, secret)));
        var tier = received.First(r => r.Json.GetProperty("type").GetString() == "tier.changed").Json.GetProperty("data");
        Assert.Equal("gold", tier.GetProperty("to").GetString());
        var tags = received.First(r => r.Json.GetProperty("type").GetString() == "member.updated").Json.GetProperty("data");
        Assert.Equal(["vip-event"], tags.GetProperty("manualTags").EnumerateArray().Select(t => t.GetString()));
    }

    [Fact]
    public async Task AReceiverThatFailsThreeTimes_GetsTheEventOnceMore_AndTheLogSaysSo()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (endpointId, secret) = await RegisterAsync(admin, "/flaky", "stored_value.topped_up");
        var (memberId, _) = await app.EnrolAsync();
        app.Receiver.FailFirst("/flaky", 3);
        await admin.PostOkAsync($"/api/members/{memberId}/top-ups", new { amount = 5_000, storeId = "sh-001" }, Guid.NewGuid().ToString());

        List<Receipt> Attempts() => [.. app.Receiver.Receipts.Where(r => r.Path == "/flaky" && r.Json.GetProperty("subject").GetString() == memberId)];
        await Api.EventuallyAsync(() => Task.FromResult(Attempts().Any(r => r.Answered == 204)), "the fourth attempt to succeed");
        await Task.Delay(3000); // a fifth attempt would come within the 1 s schedule
        var attempts = Attempts();
        Assert.Equal([503, 503, 503, 204], attempts.Select(a => a.Answered));
        Assert.Single(attempts.Select(a => a.Id).Distinct());
        Assert.All(attempts, a => Assert.True(WebhookReceiver.Verify(a, secret)));
        Assert.Single(attempts.Select(a => a.Body).Select(Convert.ToBase64String).Distinct());

        var log = await admin.GetJsonAsync($"/api/webhook-endpoints/{endpointId}/deliveries");
        var entry = log.GetProperty("items").EnumerateArray().Single(i => i.GetProperty("eventId").GetString() == attempts[0].Id);
        Assert.Equal("delivered", entry.GetProperty("status").GetString());
        Assert.Equal(4, entry.GetProperty("attempts").GetInt32());
        Assert.Equal(204, entry.GetProperty("lastStatusCode").GetInt32());

        // A replay sends it once more, under the same id.
        var replay = await admin.PostAsync($"/api/webhook-endpoints/{endpointId}/deliveries/{attempts[0].Id}/replay", new { }, null);
        Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);
        await Api.EventuallyAsync(() => Task.FromResult(Attempts().Count == 5), "the replayed delivery");
        Assert.Equal(attempts[0].Id, Attempts()[^1].Id);
    }

    [Fact]
    public async Task ADeliveryThatNeverSucceeds_IsParkedAfterTheSchedule()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (endpointId, _) = await RegisterAsync(admin, "/down", "stored_value.topped_up");
        app.Receiver.FailFirst("/down", 1000);
        var (memberId, _) = await app.EnrolAsync();
        await admin.PostOkAsync($"/api/members/{memberId}/top-ups", new { amount = 1_000, storeId = "sh-001" }, Guid.NewGuid().ToString());
        JsonElement parked = default;
        await Api.EventuallyAsync(async () =>
        {
            var log = await admin.GetJsonAsync($"/api/webhook-endpoints/{endpointId}/deliveries?status=parked");
            parked = log.GetProperty("items").EnumerateArray().FirstOrDefault(i => i.GetProperty("subject").GetString() == memberId);
            return parked.ValueKind == JsonValueKind.Object;
        }, "the delivery to be parked");

        // The first attempt and one per delay of the 5-step schedule.
        Assert.Equal(6, parked.GetProperty("attempts").GetInt32());
        Assert.Equal(503, parked.GetProperty("lastStatusCode").GetInt32());
        Assert.Equal(6, app.Receiver.Receipts.Count(r => r.Path == "/down" && r.Json.GetProperty("subject").GetString() == memberId));
    }

    [Fact]
    public async Task AFailedMemberTransaction_EmitsNothing()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        await RegisterAsync(admin, "/failed", "*");
        var (memberId, _) = await app.EnrolAsync();
        await Api.EventuallyAsync(() => Task.FromResult(ReceivedFor("/failed", memberId).Count == 1), "member.enrolled");

        // The commit fails before anything is written (storage answers 503): the caller sees an error, nothing is emitted.
        // (Only this member's transaction gets the fault: the app's background writes pass.)
        app.Faults.ForceNext(Fault.UnavailableBeforeCommit, when: $"Members(PartitionKey='{memberId}',RowKey='account-{memberId}')");
        var failed = await admin.PostAsync($"/api/members/{memberId}/top-ups", new { amount = 7_000, storeId = "sh-001" }, Guid.NewGuid().ToString());
        Assert.False(failed.IsSuccessStatusCode);
        Assert.Equal(1, app.Faults.Injected.GetValueOrDefault(Fault.UnavailableBeforeCommit));

        // Refused by the rules (more than the balance): nothing either.
        var refused = await admin.PostAsync($"/api/members/{memberId}/redemptions", new { points = 1_000_000, storeId = "sh-001" }, Guid.NewGuid().ToString());
        Assert.False(refused.IsSuccessStatusCode);

        // A later change is the member's second event, with no gap where the failed ones were.
        await admin.PostOkAsync($"/api/members/{memberId}/top-ups", new { amount = 2_000, storeId = "sh-001" }, Guid.NewGuid().ToString());
        await Api.EventuallyAsync(() => Task.FromResult(ReceivedFor("/failed", memberId).Count >= 2), "the later top-up");
        await Task.Delay(1500);
        var received = ReceivedFor("/failed", memberId);
        Assert.Equal(["member.enrolled", "stored_value.topped_up"], received.Select(r => r.Json.GetProperty("type").GetString()));
        Assert.Equal(2_000, received[1].Json.GetProperty("data").GetProperty("principal").GetInt64());
        Assert.Equal("000000000002", received[1].Json.GetProperty("sequence").GetString());
        await OutboxEmptiesAsync(memberId);
    }

    [Fact]
    public async Task AnApprovalDecided_IsPublishedOnce_AsItsOwnStream()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        await RegisterAsync(admin, "/approvals", "approval.decided");
        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        using var manager = app.Client(await app.KeyForAsync("storeManager", "sh-001"));
        var (memberId, _) = await app.EnrolAsync();
        var requested = await terminal.PostAsync($"/api/members/{memberId}/adjustments", new { points = 800, reason = "补录漏积分" }, Guid.NewGuid().ToString());
        Assert.Equal(HttpStatusCode.Accepted, requested.StatusCode);
        var approvalId = (await requested.JsonAsync()).GetProperty("approvalId").GetString()!;
        Assert.Equal(HttpStatusCode.Accepted, (await manager.PostAsync($"/api/approvals/{approvalId}/decision", new { approve = false, comment = "不符合规定" }, null)).StatusCode);

        var stream = "approval-" + approvalId;
        await Api.EventuallyAsync(() => Task.FromResult(ReceivedFor("/approvals", stream).Count == 1), "approval.decided");
        await Task.Delay(1500);
        var decided = Assert.Single(ReceivedFor("/approvals", stream));
        Assert.Equal(stream + "-1", decided.Id);
        var data = decided.Json.GetProperty("data");
        Assert.Equal(("rejected", approvalId, 800), (data.GetProperty("status").GetString(), data.GetProperty("approvalId").GetString(), data.GetProperty("amount").GetInt32()));
        Assert.Empty(ReceivedFor("/approvals", memberId));
    }

    [Fact]
    public async Task TheDeliveryLog_PurgesDeliveredRows_OnlyOnceTheyAreOld()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (endpointId, _) = await RegisterAsync(admin, "/purge", "stored_value.topped_up");
        var (memberId, _) = await app.EnrolAsync();
        await admin.PostOkAsync($"/api/members/{memberId}/top-ups", new { amount = 1_000, storeId = "sh-001" }, Guid.NewGuid().ToString());
        await Api.EventuallyAsync(async () => (await admin.GetJsonAsync($"/api/webhook-endpoints/{endpointId}/deliveries?status=delivered")).GetProperty("items").GetArrayLength() == 1, "the delivery");

        var deliveries = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Loyalty.Storage.Webhooks.WebhookDeliveryStore>(app.Services);
        Assert.Equal(0, await deliveries.PurgeDeliveredAsync(endpointId, DateTimeOffset.UtcNow.AddDays(-1)));
        Assert.Equal(1, await deliveries.PurgeDeliveredAsync(endpointId, DateTimeOffset.UtcNow.AddMinutes(1)));
        Assert.Equal(0, (await admin.GetJsonAsync($"/api/webhook-endpoints/{endpointId}/deliveries")).GetProperty("items").GetArrayLength());
        await (await admin.GetAsync($"/api/webhook-endpoints/{endpointId}/deliveries?status=nope")).AssertProblemAsync(HttpStatusCode.BadRequest, "status_invalid");
    }

    [Fact]
    public async Task BadEndpointRequests_AreRefusedWithTheirProblem()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        async Task Refused(object body, HttpStatusCode status, string code) =>
            await (await admin.PostAsync("/api/webhook-endpoints", body, null)).AssertProblemAsync(status, code);
        await Refused(new { url = "ftp://example.com/x", eventTypes = new[] { "*" } }, HttpStatusCode.BadRequest, "url_invalid");
        await Refused(new { url = "not a url", eventTypes = new[] { "*" } }, HttpStatusCode.BadRequest, "url_invalid");
        await Refused(new { url = "http://user:pw@example.com/x", eventTypes = new[] { "*" } }, HttpStatusCode.BadRequest, "url_invalid");
        await Refused(new { url = "http://169.254.169.254/metadata", eventTypes = new[] { "*" } }, HttpStatusCode.BadRequest, "url_forbidden");
        await Refused(new { url = "http://10.1.2.3/hook", eventTypes = new[] { "*" } }, HttpStatusCode.BadRequest, "url_forbidden");
        await Refused(new { url = "http://[fd00::1]/hook", eventTypes = new[] { "*" } }, HttpStatusCode.BadRequest, "url_forbidden");
        await Refused(new { url = "http://168.63.129.16/machine", eventTypes = new[] { "*" } }, HttpStatusCode.BadRequest, "url_forbidden");
        await Refused(new { url = "http://[64:ff9b::a00:1]/hook", eventTypes = new[] { "*" } }, HttpStatusCode.BadRequest, "url_forbidden"); // NAT64 of 10.0.0.1
        await Refused(new { url = "http://[2002:a9fe:a9fe::1]/hook", eventTypes = new[] { "*" } }, HttpStatusCode.BadRequest, "url_forbidden"); // 6to4 of 169.254.169.254
        await Refused(new { url = "http://127.0.0.1:1/x", eventTypes = Array.Empty<string>() }, HttpStatusCode.BadRequest, "event_types_invalid");
        await Refused(new { url = "http://127.0.0.1:1/x", eventTypes = new[] { "member.exploded" } }, HttpStatusCode.BadRequest, "event_type_unknown");
        await Refused(new { url = "http://127.0.0.1:1/x", eventTypes = new[] { "*" }, secret = "mine" }, HttpStatusCode.BadRequest, "read_only_field");

        var store = await app.KeyForAsync("storeManager", "sh-001");
        using var manager = app.Client(store);
        await (await manager.PostAsync("/api/webhook-endpoints", new { url = "http://127.0.0.1:1/x", eventTypes = new[] { "*" } }, null)).AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden_role");
        await (await admin.GetAsync("/api/webhook-endpoints/we_nope")).AssertProblemAsync(HttpStatusCode.NotFound, "endpoint_not_found");
        await (await admin.PostAsync("/api/webhook-endpoints/we_nope/deliveries/x/replay", new { }, null)).AssertProblemAsync(HttpStatusCode.NotFound, "endpoint_not_found");
    }

    [Fact]
    public async Task SecretRotation_SignsWithBothLiveSecrets_ThenOnlyTheNewOne()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (endpointId, oldSecret) = await RegisterAsync(admin, "/rotate", "stored_value.topped_up");
        var added = await admin.PostOkAsync($"/api/webhook-endpoints/{endpointId}/secrets", new { });
        var newSecret = added.GetProperty("secret").GetString()!;
        await (await admin.PostAsync($"/api/webhook-endpoints/{endpointId}/secrets", new { }, null)).AssertProblemAsync(HttpStatusCode.Conflict, "too_many_secrets");
        var endpoint = await admin.GetJsonAsync($"/api/webhook-endpoints/{endpointId}");
        Assert.Equal(2, endpoint.GetProperty("secrets").GetArrayLength());
        Assert.False(endpoint.TryGetProperty("secret", out _));

        var (memberId, _) = await app.EnrolAsync();
        await admin.PostOkAsync($"/api/members/{memberId}/top-ups", new { amount = 1_000, storeId = "sh-001" }, Guid.NewGuid().ToString());
        await Api.EventuallyAsync(() => Task.FromResult(ReceivedFor("/rotate", memberId).Count == 1), "the delivery signed with both");
        var both = ReceivedFor("/rotate", memberId)[0];
        Assert.True(WebhookReceiver.Verify(both, oldSecret));
        Assert.True(WebhookReceiver.Verify(both, newSecret));

        var oldId = endpoint.GetProperty("secrets")[0].GetProperty("secretId").GetString()!;
        var deleted = await admin.DeleteAsync($"/api/webhook-endpoints/{endpointId}/secrets/{oldId}");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        var lastId = added.GetProperty("secretId").GetString()!;
        await (await admin.DeleteAsync($"/api/webhook-endpoints/{endpointId}/secrets/{lastId}")).AssertProblemAsync(HttpStatusCode.Conflict, "last_secret");

        await admin.PostOkAsync($"/api/members/{memberId}/top-ups", new { amount = 1_000, storeId = "sh-001" }, Guid.NewGuid().ToString());
        await Api.EventuallyAsync(() => Task.FromResult(ReceivedFor("/rotate", memberId).Count == 2), "the delivery after rotation");
        var after = ReceivedFor("/rotate", memberId)[1];
        Assert.True(WebhookReceiver.Verify(after, newSecret));
        Assert.False(WebhookReceiver.Verify(after, oldSecret));
    }

    [Fact]
    public async Task ADispatcherStoppedMidBatch_LosesNothing_AndItsDuplicatesKeepTheirIds()
    {
        // Two committed outbox rows of one partition (five events), as two member transactions leave them.
        var subject = "MDISPATCH" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        var at = DateTimeOffset.UtcNow;
        EventDraft Draft(int n) => new("points.earned", new System.Text.Json.Nodes.JsonObject { ["points"] = n });
        await app.Store.Members.AddEntityAsync(OutboxRows.ToRow(subject, subject, 1, [Draft(1), Draft(2), Draft(3)], at));
        await app.Store.Members.AddEntityAsync(OutboxRows.ToRow(subject, subject, 4, [Draft(4), Draft(5)], at, previous: OutboxRows.Key(subject, 1)));

        var services = app.Services;
        var deliverer = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Functions.Events.WebhookDeliverer>(services);
        var logger = Microsoft.Extensions.Logging.Abstractions.NullLogger<Functions.Events.EventDispatcher>.Instance;

        // The first dispatcher dies after publishing three events (its process would be gone; here its call throws).
        var dying = new RecordingTransport(failAfter: 3);
        var first = new Functions.Events.EventDispatcher(app.Store, dying, deliverer, logger);
        await Assert.ThrowsAsync<IOException>(() => first.DispatchMemberAsync(subject, OutboxRows.Key(subject, 4), CancellationToken.None));
        Assert.Equal(2, (await OutboxRowsAsync(subject)).Count);

        // The next dispatch of the partition publishes everything, the first three again under the same ids.
        var next = new RecordingTransport(failAfter: int.MaxValue);
        Assert.Equal(5, await new Functions.Events.EventDispatcher(app.Store, next, deliverer, logger).DispatchMemberAsync(subject, OutboxRows.Key(subject, 4), CancellationToken.None));
        Assert.Equal(Enumerable.Range(1, 5).Select(n => $"{subject}-{n}"), next.Published.Select(e => e.Id));
        Assert.Equal(next.Published.Take(3).Select(e => e.Id), dying.Published.Select(e => e.Id));
        Assert.Equal(next.Published.Take(3).Select(e => e.Type), dying.Published.Select(e => e.Type));
        Assert.Empty(await OutboxRowsAsync(subject));

        // A third dispatch finds nothing to publish.
        Assert.Equal(0, await new Functions.Events.EventDispatcher(app.Store, next, deliverer, logger).DispatchMemberAsync(subject, OutboxRows.Key(subject, 4), CancellationToken.None));
    }

    [Fact]
    public async Task ANotificationComposedAgain_PublishesItsEventOnce_AndLeavesNoOutboxRow()
    {
        using (var admin = app.Client(LoyaltyApp.AdminKey))
        {
            await RegisterAsync(admin, "/notify", "notification.requested");
        }

        var (memberId, _) = await app.EnrolAsync();
        var services = app.Services;
        var outbox = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Functions.Notifications.NotificationOutbox>(services);

        // The step runs here, in the test's own services: their endpoint list must include the one just registered.
        Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Functions.Events.WebhookDeliverer>(services).Invalidate();

        // The composing step runs twice (its activity retried): the second finds the notification stored and, unless the
        // sender has sent it meanwhile, queues it and writes its event's row again.
        Assert.Equal(Functions.Notifications.OutboxResult.Queued, await outbox.QueueAsync(memberId, "repeat", "test", "hello", marketing: false, CancellationToken.None));
        Assert.Contains(await outbox.QueueAsync(memberId, "repeat", "test", "hello", marketing: false, CancellationToken.None), new[] { Functions.Notifications.OutboxResult.Queued, Functions.Notifications.OutboxResult.AlreadySent });

        // One event id, delivered once to the endpoint (the delivery log drops a repeat), and no Outbox row left behind.
        var stream = $"notification-{memberId}-repeat";
        await Api.EventuallyAsync(() => Task.FromResult(ReceivedFor("/notify", stream).Count == 1), "notification.requested");
        await Task.Delay(1000);
        var received = ReceivedFor("/notify", stream);
        Assert.Equal([stream + "-1"], received.Select(r => r.Id));
        Assert.Equal("hello", received[0].Json.GetProperty("data").GetProperty("text").GetString());
        var rows = new List<string>();
        await foreach (var row in app.Store.Table(app.Names.Outbox).QueryAsync<Azure.Data.Tables.TableEntity>(r => r.PartitionKey == stream))
        {
            rows.Add(row.RowKey);
        }

        Assert.Empty(rows);
    }

    [Fact]
    public async Task ARowTheProcessDeleted_IsNotReadAgain_WhenTheNextRowNamesIt_WhileAnotherProcessStillLooksForIt()
    {
        var subject = "MWALK" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        var at = DateTimeOffset.UtcNow;
        EventDraft Draft(int n) => new("points.earned", new System.Text.Json.Nodes.JsonObject { ["points"] = n });
        var services = app.Services;
        var deliverer = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Functions.Events.WebhookDeliverer>(services);
        var logger = Microsoft.Extensions.Logging.Abstractions.NullLogger<Functions.Events.EventDispatcher>.Instance;

        // Two dispatchers, as two processes, each counting its point reads of the member table.
        (Functions.Events.EventDispatcher Dispatcher, FaultInjectionPolicy Reads, RecordingTransport Transport) Process()
        {
            var policy = new FaultInjectionPolicy(new FaultPlan());
            var store = new Storage.Schema.TableStore(app.Names, name => app.Azurite.TableWith(name, policy), app.Azurite.Queues.GetQueueClient);
            var transport = new RecordingTransport(failAfter: int.MaxValue);
            return (new Functions.Events.EventDispatcher(store, transport, deliverer, logger), policy, transport);
        }

        var one = Process();
        var other = Process();

        // The member's first change: its row names no earlier one, so one read.
        await app.Store.Members.AddEntityAsync(OutboxRows.ToRow(subject, subject, 1, [Draft(1)], at));
        Assert.Equal(1, await one.Dispatcher.DispatchMemberAsync(subject, OutboxRows.Key(subject, 1), CancellationToken.None));
        Assert.Equal(1, one.Reads.Reads);

        // The second names the first, which this process deleted: it reads only the new row.
        await app.Store.Members.AddEntityAsync(OutboxRows.ToRow(subject, subject, 2, [Draft(2)], at, previous: OutboxRows.Key(subject, 1)));
        Assert.Equal(1, await one.Dispatcher.DispatchMemberAsync(subject, OutboxRows.Key(subject, 2), CancellationToken.None));
        Assert.Equal(2, one.Reads.Reads);

        // Another process did not delete the second row: it reads the third and looks for the second (gone, 404).
        await app.Store.Members.AddEntityAsync(OutboxRows.ToRow(subject, subject, 3, [Draft(3)], at, previous: OutboxRows.Key(subject, 2)));
        Assert.Equal(1, await other.Dispatcher.DispatchMemberAsync(subject, OutboxRows.Key(subject, 3), CancellationToken.None));
        Assert.Equal(2, other.Reads.Reads);

        // Each event went out once, in order, and the outbox is empty.
        Assert.Equal([$"{subject}-1", $"{subject}-2"], one.Transport.Published.Select(e => e.Id));
        Assert.Equal([$"{subject}-3"], other.Transport.Published.Select(e => e.Id));
        Assert.Empty(await OutboxRowsAsync(subject));

        // A redelivered message for a row already gone still reads it, and publishes nothing.
        Assert.Equal(0, await one.Dispatcher.DispatchMemberAsync(subject, OutboxRows.Key(subject, 2), CancellationToken.None));
        Assert.Equal(3, one.Reads.Reads);
    }

    [Fact]
    public async Task AWorkerKilledMidDispatch_LosesNothing_AndWhatItSendsAgainKeepsItsIds()
    {
        using (var admin = app.Client(LoyaltyApp.AdminKey))
        {
            await RegisterAsync(admin, "/hold", "*");
        }

        var (memberId, _) = await app.EnrolAsync();
        await Api.EventuallyAsync(() => Task.FromResult(ReceivedFor("/hold", memberId).Count == 1), "member.enrolled");

        // The first top-up's dispatch publishes to the queue, then hangs in its webhook delivery: the worker dies there.
        app.Receiver.Hold("/hold");
        using (var admin = app.Client(LoyaltyApp.AdminKey))
        {
            await admin.PostOkAsync($"/api/members/{memberId}/top-ups", new { amount = 1_000, storeId = "sh-001" }, Guid.NewGuid().ToString());
        }

        await Api.EventuallyAsync(() => Task.FromResult(ReceivedFor("/hold", memberId).Count == 2), "the held delivery of the top-up");
        var held = ReceivedFor("/hold", memberId)[1];
        Assert.Equal(memberId + "-2", held.Id);
        using (var worker = System.Diagnostics.Process.GetProcessById(app.Host.WorkerProcessId))
        {
            worker.Kill();
            worker.WaitForExit();
        }

        app.Receiver.Release("/hold");
        Assert.Single(await OutboxRowsAsync(memberId)); // the dead dispatcher never deleted it
        await app.StartHostAsync();

        // The member's next change walks back to the row left behind and publishes it again, then its own.
        using (var admin = app.Client(LoyaltyApp.AdminKey))
        {
            await admin.PostOkAsync($"/api/members/{memberId}/top-ups", new { amount = 2_000, storeId = "sh-001" }, Guid.NewGuid().ToString());
        }

        await Api.EventuallyAsync(() => Task.FromResult(ReceivedFor("/hold", memberId).Any(r => r.Id == memberId + "-3")), "the second top-up");
        await Task.Delay(1500);
        var received = ReceivedFor("/hold", memberId);

        // Nothing lost: each event arrived; the one sent again carries the same id and the same body.
        Assert.Equal([memberId + "-1", memberId + "-2", memberId + "-3"], received.Select(r => r.Id).Distinct());
        var again = received.Where(r => r.Id == memberId + "-2").ToList();
        Assert.True(again.Count >= 2, $"the held event was delivered {again.Count} time(s)");
        Assert.Single(again.Select(r => Convert.ToBase64String(r.Body)).Distinct());
        await OutboxEmptiesAsync(memberId);

        // The transport got it twice too, under one id (Service Bus duplicate detection drops the second in Azure).
        var queue = new QueueClient(app.Azurite.Server.ConnectionString, app.Names.IntegrationEventsQueue, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        var ids = new List<string>();
        for (var batch = (await queue.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(5))).Value; batch.Length > 0; batch = (await queue.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(5))).Value)
        {
            ids.AddRange(batch.SelectMany(m => JsonDocument.Parse(m.Body.ToArray()).RootElement.EnumerateArray())
                .Where(e => e.GetProperty("subject").GetString() == memberId).Select(e => e.GetProperty("id").GetString()!));
        }

        Assert.True(ids.Count(i => i == memberId + "-2") >= 2, string.Join(", ", ids));
        Assert.Equal([memberId + "-1", memberId + "-2", memberId + "-3"], ids.Distinct().Order(StringComparer.Ordinal));
    }

    private sealed class RecordingTransport(int failAfter) : Functions.Events.IEventTransport
    {
        public List<CloudNative.CloudEvents.CloudEvent> Published { get; } = [];

        public Task PublishAsync(IReadOnlyList<CloudNative.CloudEvents.CloudEvent> events, CancellationToken cancellationToken)
        {
            foreach (var e in events)
            {
                if (Published.Count >= failAfter)
                {
                    throw new IOException("The dispatcher's process went away.");
                }

                Published.Add(e);
            }

            return Task.CompletedTask;
        }
    }

    // The dispatcher deletes a row after its deliveries, so the receiver may see an event a moment before the row goes.
    private Task OutboxEmptiesAsync(string memberId) =>
        Api.EventuallyAsync(async () => (await OutboxRowsAsync(memberId)).Count == 0, $"the outbox of {memberId} to empty");

    private async Task<List<string>> OutboxRowsAsync(string memberId)
    {
        var rows = new List<string>();
        await foreach (var row in app.Store.Members.QueryAsync<Azure.Data.Tables.TableEntity>(TableFilter.PartitionRowPrefix(memberId, OutboxRows.Prefix)))
        {
            rows.Add(row.RowKey);
        }

        return rows;
    }
}
