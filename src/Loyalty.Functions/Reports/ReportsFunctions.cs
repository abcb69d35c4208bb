using Loyalty.Domain.Auth;
using Loyalty.Functions.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Loyalty.Functions.Reports;

/// <summary>The HTTP functions of this area: trigger, route and who may call each; the handlers do the work.</summary>
internal sealed class ReportsFunctions(
    global::Loyalty.Storage.Org.OrgStore orgStore,
    global::Loyalty.Storage.Reports.ReportStore reportStore,
    global::System.TimeProvider timeProvider,
    global::Microsoft.Extensions.Options.IOptions<global::Loyalty.Functions.Hosting.LoyaltyOptions> options,
    global::Loyalty.Functions.Programme.ProgrammeConfig programmeConfig,
    global::Loyalty.Functions.Reports.HealthSnapshot healthSnapshot)
{
    [Function("LiabilityReport")]
    [ApiKey]
    public Task<IResult> LiabilityReport([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "reports/liability")] HttpRequest request) =>
        global::Loyalty.Functions.Reports.ReportsApi.Liability(request.HttpContext, orgStore, reportStore, timeProvider);

    [Function("StoredValueReport")]
    [ApiKey]
    public Task<IResult> StoredValueReport([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "reports/stored-value")] HttpRequest request) =>
        global::Loyalty.Functions.Reports.ReportsApi.StoredValue(request.HttpContext, orgStore, reportStore, timeProvider, options);

    [Function("ConsumptionReport")]
    [ApiKey]
    public Task<IResult> ConsumptionReport([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "reports/consumption")] HttpRequest request) =>
        global::Loyalty.Functions.Reports.ReportsApi.Consumption(request.HttpContext, orgStore, reportStore, timeProvider, options);

    [Function("TierDistributionReport")]
    [ApiKey]
    public Task<IResult> TierDistributionReport([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "reports/tier-distribution")] HttpRequest request) =>
        global::Loyalty.Functions.Reports.ReportsApi.TierDistribution(request.HttpContext, orgStore, reportStore, programmeConfig);

    [Function("BenefitUsageReport")]
    [ApiKey]
    public Task<IResult> BenefitUsageReport([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "reports/benefit-usage")] HttpRequest request, [DurableClient] DurableTaskClient durable) =>
        global::Loyalty.Functions.Reports.ReportsApi.BenefitUsage(request.HttpContext, orgStore, reportStore, programmeConfig, durable, timeProvider, options);

    [Function("TakeHealthSnapshot")]
    [ApiKey(Role.HqAdmin, Role.Ops)]
    public Task<IResult> TakeHealthSnapshot([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "ops/reports/snapshot")] HttpRequest request) =>
        global::Loyalty.Functions.Reports.SnapshotApi.Handle(request.HttpContext, healthSnapshot);

    [Function("Dashboard")]
    [Anonymous]
    public static IResult Dashboard([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "dashboard")] HttpRequest request) =>
        global::Loyalty.Functions.Reports.DashboardPage.Handle(request.HttpContext);
}
