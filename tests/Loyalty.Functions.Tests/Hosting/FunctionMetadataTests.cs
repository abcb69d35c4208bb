using System.Reflection;
using System.Text.Json;
using Loyalty.Domain.Auth;
using Loyalty.Functions.Http;
using Loyalty.Functions.Tests.Support;
using Loyalty.Storage.Schema;
using Microsoft.Azure.Functions.Worker;
using Xunit;

namespace Loyalty.Functions.Tests.Hosting;

/// <summary>
/// The functions as the worker SDK writes them into functions.metadata (what the host, here or in Azure, reads):
/// every function with its trigger, route and methods, queue or schedule, checked against the catalogue the API had
/// before the move to the isolated worker; and every HTTP function's access rule.
/// </summary>
public sealed class FunctionMetadataTests
{
    private const string Staff = "Terminal,StoreManager,RegionManager,HqAdmin,Ops";

    /// <summary>Name, trigger kind, what fires it ("METHOD route", queue or schedule), roles admitted ("" = anonymous).</summary>
    public static TheoryData<string, string, string, string> Catalogue { get; } = new()
    {
        { "Health", "http", "GET health", "" },
        { "EnrolMember", "http", "POST members", Staff },
        { "FindMember", "http", "GET members", Staff },
        { "GetMember", "http", "GET members/{memberId}", Staff },
        { "ListMemberNotifications", "http", "GET members/{memberId}/notifications", Staff },
        { "TopUp", "http", "POST members/{memberId}/top-ups", Staff },
        { "RecordSale", "http", "POST sales", Staff },
        { "QuoteSale", "http", "POST sales/quote", Staff },
        { "RefundSale", "http", "POST sales/{saleId}/refunds", Staff },
        { "Redeem", "http", "POST members/{memberId}/redemptions", Staff },
        { "SetMemberTags", "http", "PUT members/{memberId}/tags", "StoreManager,RegionManager,HqAdmin,Ops" },
        { "ListTaggedMembers", "http", "GET tags/{tag}/members", Staff },
        { "BuyMembership", "http", "POST members/{memberId}/memberships", Staff },
        { "SetTier", "http", "PUT members/{memberId}/tier", "HqAdmin,Ops" },
        { "CheckIn", "http", "POST members/{memberId}/check-ins", Staff },
        { "AdjustPoints", "http", "POST members/{memberId}/adjustments", Staff },
        { "IssueCoupons", "http", "POST members/{memberId}/coupons", "HqAdmin,Ops" },
        { "UploadBatch", "http", "POST batches", "HqAdmin,Ops" },
        { "GetBatch", "http", "GET batches/{batchId}", "HqAdmin,Ops" },
        { "CancelBatch", "http", "POST batches/{batchId}/cancel", "HqAdmin,Ops" },
        { "GetBatchReport", "http", "GET batches/{batchId}/report", "HqAdmin,Ops" },
        { "BatchImport", "orchestration", "", "" },
        { "StageBatch", "activity", "", "" },
        { "ApplyBatchChunk", "activity", "", "" },
        { "FinishBatch", "activity", "", "" },
        { "MeasureBatchBacklog", "activity", "", "" },
        { "ListCoupons", "http", "GET members/{memberId}/coupons", Staff },
        { "RevokeCoupon", "http", "POST members/{memberId}/coupons/{code}/revoke", "HqAdmin,Ops" },
        { "RefundStoredValue", "http", "POST members/{memberId}/stored-value-refunds", Staff },
        { "ListApprovals", "http", "GET approvals", Staff },
        { "GetApproval", "http", "GET approvals/{approvalId}", Staff },
        { "DecideApproval", "http", "POST approvals/{approvalId}/decision", "StoreManager,RegionManager,HqAdmin" },
        { "GetLedger", "http", "GET members/{memberId}/ledger", Staff },
        { "IssueCard", "http", "POST members/{memberId}/cards", Staff },
        { "CardOperation", "http", "POST cards/{cardNumber}/{op}", Staff },
        { "GetOrg", "http", "GET config/org", Staff },
        { "PutOrg", "http", "PUT config/org", "HqAdmin" },
        { "GetConfig", "http", "GET config/{section}", Staff },
        { "SetScopeEarningRate", "http", "PUT config/earning-rules/scopes/{scopeId}", "StoreManager,RegionManager,HqAdmin,Ops" },
        { "PutConfig", "http", "PUT config/{section}", "HqAdmin,Ops" },
        { "Reconcile", "http", "POST ops/reconcile", "HqAdmin,Ops" },
        { "ShopOrderWebhook", "http", "POST webhooks/shops/{shopId}/orders", "" },
        { "CreateShopSecret", "http", "POST config/shops/{shopId}/secrets", "HqAdmin,Ops" },
        { "ListShopSecrets", "http", "GET config/shops/{shopId}/secrets", "HqAdmin,Ops" },
        { "DeleteShopSecret", "http", "DELETE config/shops/{shopId}/secrets/{secretId}", "HqAdmin,Ops" },
        { "ListPoisonMessages", "http", "GET ops/queues/{queue}/poison", "HqAdmin,Ops" },
        { "ReplayPoisonMessages", "http", "POST ops/queues/{queue}/poison/replay", "HqAdmin,Ops" },
        { "ListOrderEvents", "http", "GET ops/order-events", "HqAdmin,Ops" },
        { "ReplayOrderEvent", "http", "POST ops/order-events/{source}/{storeId}/{eventId}/replay", "HqAdmin,Ops" },
        { "StartOrchestration", "http", "POST orchestrations/{name}", "HqAdmin,Ops" },
        { "GetOrchestration", "http", "GET orchestrations/{instanceId}", "HqAdmin,Ops" },
        { "ListOrchestrations", "http", "GET orchestrations", "HqAdmin,Ops" },
        { "RaiseOrchestrationEvent", "http", "POST orchestrations/{instanceId}/events/{eventName}", "HqAdmin,Ops" },
        { "TerminateOrchestration", "http", "POST orchestrations/{instanceId}/terminate", "HqAdmin,Ops" },
        { "PurgeOrchestration", "http", "DELETE orchestrations/{instanceId}", "HqAdmin,Ops" },
        { "CreatePrincipal", "http", "POST principals", "StoreManager,RegionManager,HqAdmin" },
        { "ListPrincipals", "http", "GET principals", "HqAdmin" },
        { "RevokePrincipal", "http", "POST principals/{principalId}/revoke", "HqAdmin" },
        { "LiabilityReport", "http", "GET reports/liability", Staff },
        { "StoredValueReport", "http", "GET reports/stored-value", Staff },
        { "ConsumptionReport", "http", "GET reports/consumption", Staff },
        { "TierDistributionReport", "http", "GET reports/tier-distribution", Staff },
        { "BenefitUsageReport", "http", "GET reports/benefit-usage", Staff },
        { "TakeHealthSnapshot", "http", "POST ops/reports/snapshot", "HqAdmin,Ops" },
        { "Dashboard", "http", "GET dashboard", "" },
        { "GetEventCatalogue", "http", "GET events/catalogue", "HqAdmin,Ops" },
        { "CreateWebhookEndpoint", "http", "POST webhook-endpoints", "HqAdmin,Ops" },
        { "ListWebhookEndpoints", "http", "GET webhook-endpoints", "HqAdmin,Ops" },
        { "GetWebhookEndpoint", "http", "GET webhook-endpoints/{endpointId}", "HqAdmin,Ops" },
        { "DeleteWebhookEndpoint", "http", "DELETE webhook-endpoints/{endpointId}", "HqAdmin,Ops" },
        { "AddWebhookSecret", "http", "POST webhook-endpoints/{endpointId}/secrets", "HqAdmin,Ops" },
        { "DeleteWebhookSecret", "http", "DELETE webhook-endpoints/{endpointId}/secrets/{secretId}", "HqAdmin,Ops" },
        { "ListWebhookDeliveries", "http", "GET webhook-endpoints/{endpointId}/deliveries", "HqAdmin,Ops" },
        { "ReplayWebhookDelivery", "http", "POST webhook-endpoints/{endpointId}/deliveries/{eventId}/replay", "HqAdmin,Ops" },
        { "WelcomeNewMember", "queue", "%Loyalty:QueuePrefix%member-enrolled", "" },
        { "SendNotification", "queue", "%Loyalty:QueuePrefix%notifications", "" },
        { "ProcessOrderEvent", "queue", "%Loyalty:QueuePrefix%order-events", "" },
        { "ProcessPosSaleEvent", "queue", "%Loyalty:QueuePrefix%pos-sales", "" },
        { "ProjectReportFact", "queue", "%Loyalty:QueuePrefix%report-facts", "" },
        { "DispatchMemberEvents", "queue", "%Loyalty:QueuePrefix%member-events", "" },
        { "RetryWebhookDelivery", "queue", "%Loyalty:QueuePrefix%webhook-retries", "" },
        { "GiftPackCampaign", "orchestration", "", "" },
        { "BirthdayGifts", "orchestration", "", "" },
        { "Reactivation", "orchestration", "", "" },
        { "Approval", "orchestration", "", "" },
        { "GrantGiftPackBatch", "activity", "", "" },
        { "ListBirthdayMembers", "activity", "", "" },
        { "GrantBirthdayGifts", "activity", "", "" },
        { "PlanBirthdayCare", "activity", "", "" },
        { "RemindBirthdays", "activity", "", "" },
        { "ListAnniversaryMembers", "activity", "", "" },
        { "GrantAnniversaries", "activity", "", "" },
        { "PrepareReactivation", "activity", "", "" },
        { "SelectReactivationTargets", "activity", "", "" },
        { "RequestBudgetApproval", "activity", "", "" },
        { "OfferReactivation", "activity", "", "" },
        { "FollowUpReactivation", "activity", "", "" },
        { "PublishCampaignCompleted", "activity", "", "" },
        { "OpenApprovalStage", "activity", "", "" },
        { "CloseApproval", "activity", "", "" },
        { "PurgeIdempotencyRecords", "timer", "0 30 3 * * *", "" },
        { "ExpireCoupons", "timer", "0 10 * * * *", "" },
        { "ExpirePoints", "timer", "0 20 * * * *", "" },
        { "EvaluateTiers", "timer", "0 40 2 * * *", "" },
        { "RecomputeTags", "timer", "0 50 2 * * *", "" },
        { "StartBirthdayGifts", "timer", "0 5 * * * *", "" },
        { "HealthSnapshot", "timer", "0 0 3 * * *", "" },
        { "PurgeReportMarkers", "timer", "0 45 3 * * *", "" },
        { "SweepOutbox", "timer", "0 */5 * * * *", "" },
        { "PurgeWebhookDeliveries", "timer", "0 15 4 * * *", "" },
        { "NotServed", "http", "GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS {*path}", "" },
    };

    private static readonly Lazy<Dictionary<string, JsonElement>> Metadata = new(() =>
    {
        var path = Path.Combine(LoyaltyApp.AppDirectory, "functions.metadata");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.EnumerateArray().ToDictionary(f => f.GetProperty("name").GetString()!, f => f.Clone());
    });

    [Fact]
    public void Metadata_HoldsExactlyTheCatalogue()
    {
        var expected = Catalogue.Select(row => (string)row[0]).Order(StringComparer.Ordinal);
        Assert.Equal(expected, Metadata.Value.Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Catalogue))]
    public void Metadata_FunctionHasItsTrigger(string name, string kind, string fires, string roles)
    {
        var function = Metadata.Value[name];
        var bindings = function.GetProperty("bindings").EnumerateArray().ToList();
        var trigger = Assert.Single(bindings, b => b.GetProperty("type").GetString()!.EndsWith("Trigger", StringComparison.Ordinal));
        Assert.Equal("dotnet-isolated", function.GetProperty("language").GetString());
        switch (kind)
        {
            case "http":
                var (methods, route) = (fires[..fires.IndexOf(' ', StringComparison.Ordinal)], fires[(fires.IndexOf(' ', StringComparison.Ordinal) + 1)..]);
                Assert.Equal("httpTrigger", trigger.GetProperty("type").GetString());
                Assert.Equal("Anonymous", trigger.GetProperty("authLevel").GetString(), ignoreCase: true);
                Assert.Equal(route, trigger.GetProperty("route").GetString());
                Assert.Equal(methods.Split(',').Select(m => m.ToUpperInvariant()), trigger.GetProperty("methods").EnumerateArray().Select(m => m.GetString()!.ToUpperInvariant()));
                Assert.Contains(bindings, b => b.GetProperty("type").GetString() == "http" && b.GetProperty("direction").GetString()!.Equals("out", StringComparison.OrdinalIgnoreCase));
                Assert.Equal(roles, AccessOf(function));
                break;
            case "queue":
                Assert.Equal("queueTrigger", trigger.GetProperty("type").GetString());
                Assert.Equal(fires, trigger.GetProperty("queueName").GetString());
                Assert.Equal("LoyaltyStorage", trigger.GetProperty("connection").GetString());
                break;
            case "timer":
                Assert.Equal("timerTrigger", trigger.GetProperty("type").GetString());
                Assert.Equal(fires, trigger.GetProperty("schedule").GetString());
                Assert.NotNull(NCrontab.CrontabSchedule.TryParse(fires, new NCrontab.CrontabSchedule.ParseOptions { IncludingSeconds = true }));
                break;
            case "orchestration":
                Assert.Equal("orchestrationTrigger", trigger.GetProperty("type").GetString());
                break;
            case "activity":
                Assert.Equal("activityTrigger", trigger.GetProperty("type").GetString());
                break;
            default:
                Assert.Fail("unknown kind " + kind);
                break;
        }
    }

    /// <summary>
    /// The functions that start, query or signal orchestrations, directly or through an approval request, and so declare
    /// a [DurableClient] binding (the host gives its endpoint only to those). One missing would fail at run time.
    /// </summary>
    [Fact]
    public void DurableClient_IsDeclaredByTheFunctionsThatReachOrchestrations()
    {
        string[] expected =
        [
            "AdjustPoints", "BenefitUsageReport", "CancelBatch", "CardOperation", "CloseApproval", "DecideApproval", "GetBatch", "GetOrchestration", "ListOrchestrations",
            "PurgeOrchestration", "RaiseOrchestrationEvent", "RefundStoredValue", "RequestBudgetApproval", "StartBirthdayGifts", "StartOrchestration",
            "TerminateOrchestration", "UploadBatch",
        ];
        var declaring = Metadata.Value.Where(f => f.Value.GetProperty("bindings").EnumerateArray().Any(b => b.GetProperty("type").GetString() == "durableClient"))
            .Select(f => f.Key).Order(StringComparer.Ordinal);
        Assert.Equal(expected, declaring);
    }

    [Fact]
    public void QueueNames_OfTheTriggersAreTheQueuesTheAppWrites()
    {
        var names = new StorageNames(null, "p-");
        var triggers = Metadata.Value.Values
            .SelectMany(f => f.GetProperty("bindings").EnumerateArray())
            .Where(b => b.GetProperty("type").GetString() == "queueTrigger")
            .Select(b => b.GetProperty("queueName").GetString()!.Replace("%Loyalty:QueuePrefix%", "p-", StringComparison.Ordinal));
        // Every queue the app uses has its trigger, except the local transport of integration events, which the
        // chain's other systems read (as they read the Service Bus topic in Azure).
        Assert.Equal(names.AllQueues.Where(q => q != names.IntegrationEventsQueue).Order(StringComparer.Ordinal), triggers.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void EveryHttpFunction_DeclaresWhoMayCallIt()
    {
        var http = FallbackFunctions.HttpFunctions();
        Assert.Equal(Metadata.Value.Values.Count(f => f.GetProperty("bindings").EnumerateArray().Any(b => b.GetProperty("type").GetString() == "httpTrigger")), http.Count);
        foreach (var function in Metadata.Value.Values.Where(f => f.GetProperty("bindings").EnumerateArray().Any(b => b.GetProperty("type").GetString() == "httpTrigger")))
        {
            var access = HttpGuard.AccessOf(typeof(HttpGuard).Assembly, function.GetProperty("entryPoint").GetString()!);
            Assert.True(access.Kind != HttpGuard.AccessKind.Undeclared, $"{function.GetProperty("name")} declares neither [ApiKey] nor [Anonymous]");
        }

        // And an undeclared one is refused, not served.
        Assert.Equal(HttpGuard.AccessKind.Undeclared, HttpGuard.AccessOf(typeof(HttpGuard).Assembly, typeof(FallbackFunctions).FullName + ".HttpFunctions").Kind);
    }

    private static string AccessOf(JsonElement function)
    {
        var access = HttpGuard.AccessOf(typeof(HttpGuard).Assembly, function.GetProperty("entryPoint").GetString()!);
        return access.Kind switch
        {
            HttpGuard.AccessKind.ApiKey => string.Join(',', access.Roles.Order()),
            HttpGuard.AccessKind.Undeclared => "undeclared",
            _ => string.Empty,
        };
    }
}
