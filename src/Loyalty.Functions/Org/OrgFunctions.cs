using Loyalty.Domain.Auth;
using Loyalty.Functions.Http;
using Microsoft.Azure.Functions.Worker;

namespace Loyalty.Functions.Org;

/// <summary>The HTTP functions of this area: trigger, route and who may call each; the handlers do the work.</summary>
internal sealed class OrgFunctions(
    global::Loyalty.Storage.Org.OrgStore orgStore,
    global::Loyalty.Storage.Audit.AuditLog auditLog,
    global::System.TimeProvider timeProvider,
    global::Microsoft.Extensions.Options.IOptions<global::Loyalty.Functions.Hosting.LoyaltyOptions> options)
{
    [Function("GetOrg")]
    [ApiKey]
    public Task<IResult> GetOrg([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "config/org")] HttpRequest request) =>
        global::Loyalty.Functions.Org.OrgApi.GetAsync(request.HttpContext, orgStore);

    [Function("PutOrg")]
    [ApiKey(Role.HqAdmin)]
    public Task<IResult> PutOrg([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "config/org")] HttpRequest request) =>
        global::Loyalty.Functions.Org.OrgApi.PutAsync(request.HttpContext, orgStore, auditLog, timeProvider, options);
}
