using Loyalty.Functions.Http;
using Microsoft.Azure.Functions.Worker;

namespace Loyalty.Functions.Health;

/// <summary>The HTTP functions of this area: trigger, route and who may call each; the handlers do the work.</summary>
internal sealed class HealthFunctions(
    global::Loyalty.Storage.Org.OrgStore orgStore,
    global::Microsoft.Extensions.Options.IOptions<global::Loyalty.Functions.Hosting.LoyaltyOptions> options,
    global::System.TimeProvider timeProvider)
{
    [Function("Health")]
    [Anonymous(BeforeStartup = true)]
    public Task<IResult> Health([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequest request) =>
        global::Loyalty.Functions.Health.HealthApi.Handle(request.HttpContext, orgStore, options, timeProvider);
}
