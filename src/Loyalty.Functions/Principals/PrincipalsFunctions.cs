using Loyalty.Domain.Auth;
using Loyalty.Functions.Http;
using Microsoft.Azure.Functions.Worker;

namespace Loyalty.Functions.Principals;

/// <summary>The HTTP functions of this area: trigger, route and who may call each; the handlers do the work.</summary>
internal sealed class PrincipalsFunctions(
    global::Loyalty.Storage.Principals.PrincipalStore principalStore,
    global::Loyalty.Storage.Org.OrgStore orgStore,
    global::Loyalty.Storage.Audit.AuditLog auditLog,
    global::System.TimeProvider timeProvider,
    global::Microsoft.Extensions.Options.IOptions<global::Loyalty.Functions.Hosting.LoyaltyOptions> options)
{
    [Function("CreatePrincipal")]
    [ApiKey(Role.HqAdmin, Role.RegionManager, Role.StoreManager)]
    public Task<IResult> CreatePrincipal([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "principals")] HttpRequest request) =>
        global::Loyalty.Functions.Principals.PrincipalsApi.CreateAsync(request.HttpContext, principalStore, orgStore, auditLog, timeProvider, options);

    [Function("ListPrincipals")]
    [ApiKey(Role.HqAdmin)]
    public Task<IResult> ListPrincipals([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "principals")] HttpRequest request) =>
        global::Loyalty.Functions.Principals.PrincipalsApi.ListAsync(request.HttpContext, principalStore);

    [Function("RevokePrincipal")]
    [ApiKey(Role.HqAdmin)]
    public Task<IResult> RevokePrincipal([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "principals/{principalId}/revoke")] HttpRequest request, string principalId) =>
        global::Loyalty.Functions.Principals.PrincipalsApi.RevokeAsync(request.HttpContext, principalId, principalStore, auditLog, timeProvider);
}
