using Loyalty.Domain.Auth;
using Loyalty.Functions.Http;
using Microsoft.Azure.Functions.Worker;

namespace Loyalty.Functions.Programme;

/// <summary>The HTTP functions of this area: trigger, route and who may call each; the handlers do the work.</summary>
internal sealed class ProgrammeFunctions(
    global::Loyalty.Functions.Programme.BuyMembership buyMembership,
    global::Loyalty.Functions.Programme.SetTier setTier,
    global::Loyalty.Storage.Config.ConfigStore configStore,
    global::Loyalty.Functions.Programme.ScopeRatesApi scopeRatesApi,
    global::Loyalty.Functions.Programme.ProgrammeConfig programmeConfig,
    global::Loyalty.Storage.Org.OrgStore orgStore,
    global::Loyalty.Storage.Audit.AuditLog auditLog,
    global::System.TimeProvider timeProvider,
    global::Microsoft.Extensions.Options.IOptions<global::Loyalty.Functions.Hosting.LoyaltyOptions> options)
{
    [Function("BuyMembership")]
    [ApiKey]
    public Task<IResult> BuyMembership([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "members/{memberId}/memberships")] HttpRequest request, string memberId) =>
        buyMembership.HandleAsync(request.HttpContext, memberId);

    [Function("SetTier")]
    [ApiKey(Role.HqAdmin, Role.Ops)]
    public Task<IResult> SetTier([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "members/{memberId}/tier")] HttpRequest request, string memberId) =>
        setTier.HandleAsync(request.HttpContext, memberId);

    [Function("GetConfig")]
    [ApiKey]
    public Task<IResult> GetConfig([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "config/{section}")] HttpRequest request, string section) =>
        global::Loyalty.Functions.Programme.ConfigApi.GetAsync(request.HttpContext, section, configStore);

    [Function("SetScopeEarningRate")]
    [ApiKey(Role.HqAdmin, Role.Ops, Role.RegionManager, Role.StoreManager)]
    public Task<IResult> SetScopeEarningRate([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "config/earning-rules/scopes/{scopeId}")] HttpRequest request, string scopeId) =>
        scopeRatesApi.HandleAsync(request.HttpContext, scopeId);

    [Function("PutConfig")]
    [ApiKey(Role.HqAdmin, Role.Ops)]
    public Task<IResult> PutConfig([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "config/{section}")] HttpRequest request, string section) =>
        global::Loyalty.Functions.Programme.ConfigApi.PutAsync(request.HttpContext, section, configStore, programmeConfig, orgStore, auditLog, timeProvider, options);
}
