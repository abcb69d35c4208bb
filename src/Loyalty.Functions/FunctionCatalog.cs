using Loyalty.Domain.Auth;
using Loyalty.Functions.Approvals;
using Loyalty.Functions.Cards;
using Loyalty.Functions.Coupons;
using Loyalty.Functions.Durable;
using Loyalty.Functions.Health;
using Loyalty.Functions.Ledger;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Maintenance;
using Loyalty.Functions.Members;
using Loyalty.Functions.Notifications;
using Loyalty.Functions.Org;
using Loyalty.Functions.Ops;
using Loyalty.Functions.Principals;
using Loyalty.Functions.Programme;
using Loyalty.Functions.Sales;
using Loyalty.Functions.StoredValue;
using Loyalty.Functions.Tags;
using Loyalty.Functions.Webhooks;
using Loyalty.Storage.Schema;

namespace Loyalty.Functions;

/// <summary>
/// Every function of the app, declared once. Local mode maps the HTTP routes and polls the queues from this list;
/// Azure mode maps <c>POST /{Name}</c> invocations from it; <c>emit-metadata</c> writes function.json from it.
/// </summary>
public static class FunctionCatalog
{
    private static readonly Role[] Staff = [Role.Terminal, Role.StoreManager, Role.RegionManager, Role.HqAdmin, Role.Ops];
    private static readonly Role[] Anonymous = [];

    /// <summary>The catalogue for a set of storage names (queue names carry the configured prefix).</summary>
    public static IReadOnlyList<FunctionDefinition> Build(StorageNames names)
    {
        ArgumentNullException.ThrowIfNull(names);
        return
        [
            Http("Health", "GET", "health", Anonymous, HealthApi.Handle),
            Http("EnrolMember", "POST", "members", Staff, EnrolMember.Handle),
            Http("FindMember", "GET", "members", Staff, FindMember.Handle),
            Http("GetMember", "GET", "members/{memberId}", Staff, GetMember.Handle),
            Http("ListMemberNotifications", "GET", "members/{memberId}/notifications", Staff, ListMemberNotifications.Handle),
            Http("TopUp", "POST", "members/{memberId}/top-ups", Staff, TopUp.Handle),
            Http("RecordSale", "POST", "sales", Staff, RecordSale.Handle),
            Http("QuoteSale", "POST", "sales/quote", Staff, QuoteSale.Handle),
            Http("RefundSale", "POST", "sales/{saleId}/refunds", Staff, RefundSale.Handle),
            Http("Redeem", "POST", "members/{memberId}/redemptions", Staff, Redeem.Handle),
            Http("SetMemberTags", "PUT", "members/{memberId}/tags", [Role.StoreManager, Role.RegionManager, Role.HqAdmin, Role.Ops], TagsApi.SetManual),
            Http("ListTaggedMembers", "GET", "tags/{tag}/members", Staff, TagsApi.ListMembers),
            Http("BuyMembership", "POST", "members/{memberId}/memberships", Staff, BuyMembership.Handle),
            Http("SetTier", "PUT", "members/{memberId}/tier", [Role.HqAdmin, Role.Ops], SetTier.Handle),
            Http("CheckIn", "POST", "members/{memberId}/check-ins", Staff, CheckIn.Handle),
            Http("AdjustPoints", "POST", "members/{memberId}/adjustments", Staff, Adjust.Handle),
            Http("IssueCoupons", "POST", "members/{memberId}/coupons", [Role.Ops, Role.HqAdmin], CouponsApi.Issue),
            Http("ListCoupons", "GET", "members/{memberId}/coupons", Staff, CouponsApi.List),
            Http("RevokeCoupon", "POST", "members/{memberId}/coupons/{code}/revoke", [Role.Ops, Role.HqAdmin], CouponsApi.Revoke),
            Http("RefundStoredValue", "POST", "members/{memberId}/stored-value-refunds", Staff, RefundStoredValue.Handle),
            Http("ListApprovals", "GET", "approvals", Staff, ApprovalsApi.List),
            Http("GetApproval", "GET", "approvals/{approvalId}", Staff, ApprovalsApi.Get),
            Http("DecideApproval", "POST", "approvals/{approvalId}/decision", [Role.StoreManager, Role.RegionManager, Role.HqAdmin], ApprovalsApi.Decide),
            Http("GetLedger", "GET", "members/{memberId}/ledger", Staff, LedgerApi.Handle),
            Http("IssueCard", "POST", "members/{memberId}/cards", Staff, IssueCard.Handle),
            Http("CardOperation", "POST", "cards/{cardNumber}/{op}", Staff, CardOperations.Handle),
            Http("GetOrg", "GET", "config/org", Staff, OrgApi.GetAsync),
            Http("PutOrg", "PUT", "config/org", [Role.HqAdmin], OrgApi.PutAsync),
            Http("GetConfig", "GET", "config/{section}", Staff, ConfigApi.GetAsync),
            Http("SetScopeEarningRate", "PUT", "config/earning-rules/scopes/{scopeId}", [Role.HqAdmin, Role.Ops, Role.RegionManager, Role.StoreManager], ScopeRatesApi.Handle),
            Http("PutConfig", "PUT", "config/{section}", [Role.HqAdmin, Role.Ops], ConfigApi.PutAsync),
            Http("Reconcile", "POST", "ops/reconcile", [Role.HqAdmin, Role.Ops], ReconcileApi.Handle),
            Http("ShopOrderWebhook", "POST", "webhooks/shops/{shopId}/orders", Anonymous, ShopWebhook.Handle),
            Http("CreateShopSecret", "POST", "config/shops/{shopId}/secrets", [Role.HqAdmin, Role.Ops], ShopSecretsApi.CreateAsync),
            Http("ListShopSecrets", "GET", "config/shops/{shopId}/secrets", [Role.HqAdmin, Role.Ops], ShopSecretsApi.ListAsync),
            Http("DeleteShopSecret", "DELETE", "config/shops/{shopId}/secrets/{secretId}", [Role.HqAdmin, Role.Ops], ShopSecretsApi.DeleteAsync),
            Http("ListPoisonMessages", "GET", "ops/queues/{queue}/poison", [Role.HqAdmin, Role.Ops], QueueOpsApi.ListPoisonAsync),
            Http("ReplayPoisonMessages", "POST", "ops/queues/{queue}/poison/replay", [Role.HqAdmin, Role.Ops], QueueOpsApi.ReplayPoisonAsync),
            Http("ListOrderEvents", "GET", "ops/order-events", [Role.HqAdmin, Role.Ops], QueueOpsApi.ListOrderEventsAsync),
            Http("ReplayOrderEvent", "POST", "ops/order-events/{source}/{storeId}/{eventId}/replay", [Role.HqAdmin, Role.Ops], QueueOpsApi.ReplayOrderEventAsync),
            Http("StartOrchestration", "POST", "orchestrations/{name}", [Role.HqAdmin, Role.Ops], OrchestrationsApi.StartAsync),
            Http("GetOrchestration", "GET", "orchestrations/{instanceId}", [Role.HqAdmin, Role.Ops], OrchestrationsApi.GetAsync),
            Http("ListOrchestrations", "GET", "orchestrations", [Role.HqAdmin, Role.Ops], OrchestrationsApi.ListAsync),
            Http("RaiseOrchestrationEvent", "POST", "orchestrations/{instanceId}/events/{eventName}", [Role.HqAdmin, Role.Ops], OrchestrationsApi.RaiseEventAsync),
            Http("TerminateOrchestration", "POST", "orchestrations/{instanceId}/terminate", [Role.HqAdmin, Role.Ops], OrchestrationsApi.TerminateAsync),
            Http("PurgeOrchestration", "DELETE", "orchestrations/{instanceId}", [Role.HqAdmin, Role.Ops], OrchestrationsApi.PurgeAsync),
            Http("CreatePrincipal", "POST", "principals", [Role.HqAdmin, Role.RegionManager, Role.StoreManager], PrincipalsApi.CreateAsync),
            Http("ListPrincipals", "GET", "principals", [Role.HqAdmin], PrincipalsApi.ListAsync),
            Http("RevokePrincipal", "POST", "principals/{principalId}/revoke", [Role.HqAdmin], PrincipalsApi.RevokeAsync),
            Http("LiabilityReport", "GET", "reports/liability", Staff, Reports.ReportsApi.Liability),
            Http("StoredValueReport", "GET", "reports/stored-value", Staff, Reports.ReportsApi.StoredValue),
            Http("ConsumptionReport", "GET", "reports/consumption", Staff, Reports.ReportsApi.Consumption),
            Http("TierDistributionReport", "GET", "reports/tier-distribution", Staff, Reports.ReportsApi.TierDistribution),
            Http("BenefitUsageReport", "GET", "reports/benefit-usage", Staff, Reports.ReportsApi.BenefitUsage),
            Http("TakeHealthSnapshot", "POST", "ops/reports/snapshot", [Role.HqAdmin, Role.Ops], Reports.SnapshotApi.Handle),
            Http("Dashboard", "GET", "dashboard", Anonymous, Reports.DashboardPage.Handle),
            Queue<WelcomeNewMember>("WelcomeNewMember", names.MemberEnrolledQueue),
            Queue<SendNotification>("SendNotification", names.NotificationsQueue),
            Queue<ProcessOrderEvent>("ProcessOrderEvent", names.OrderEventsQueue),
            new("ProcessPosSaleEvent", new ServiceBusTrigger("pos-sales", "ServiceBusConnection", names.PosSalesQueue), typeof(ProcessPosSaleEvent)),
            .. names.DurableControlQueues.Select((q, i) => Queue<DurableControl>($"DurableControl{i:D2}", q)),
            Queue<DurableWorkItem>("DurableWorkItem", names.DurableWorkQueue),
            Queue<Reports.ProjectReportFact>("ProjectReportFact", names.ReportFactsQueue),
            Timer<PurgeIdempotencyRecords>("PurgeIdempotencyRecords", PurgeIdempotencyRecords.Schedule),
            Timer<ExpireCoupons>("ExpireCoupons", ExpireCoupons.Schedule),
            Timer<ExpirePoints>("ExpirePoints", ExpirePoints.Schedule),
            Timer<EvaluateTiers>("EvaluateTiers", EvaluateTiers.Schedule),
            Timer<RecomputeTags>("RecomputeTags", RecomputeTags.Schedule),
            Timer<Campaigns.StartBirthdayGifts>("StartBirthdayGifts", Campaigns.StartBirthdayGifts.Schedule),
            Timer<Reports.TakeHealthSnapshot>("HealthSnapshot", Reports.TakeHealthSnapshot.Schedule),
            Timer<Reports.PurgeReportMarkers>("PurgeReportMarkers", Reports.PurgeReportMarkers.Schedule),
        ];
    }

    private static FunctionDefinition Http(string name, string method, string route, Role[] roles, Delegate handler) =>
        new(name, new HttpTrigger([method], route, roles), handler);

    private static FunctionDefinition Queue<T>(string name, string queue)
        where T : IQueueFunction =>
        new(name, new QueueTrigger(queue, Hosting.LoyaltyOptions.StorageConnection), typeof(T));

    private static FunctionDefinition Timer<T>(string name, string schedule)
        where T : ITimerFunction =>
        new(name, new TimerTrigger(schedule), typeof(T));
}
