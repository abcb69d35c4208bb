using Loyalty.Domain.Auth;
using Loyalty.Functions.Http;
using Microsoft.Azure.Functions.Worker;

namespace Loyalty.Functions.Durable;

/// <summary>The HTTP functions of this area: trigger, route and who may call each; the handlers do the work.</summary>
internal sealed class OrchestrationFunctions(
    global::Loyalty.Durable.Model.IOrchestrationClient orchestrationClient,
    global::Loyalty.Durable.Model.OrchestrationRegistry orchestrationRegistry,
    global::Microsoft.Extensions.Options.IOptions<global::Loyalty.Functions.Hosting.LoyaltyOptions> options)
{
    [Function("StartOrchestration")]
    [ApiKey(Role.HqAdmin, Role.Ops)]
    public Task<IResult> StartOrchestration([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "orchestrations/{name}")] HttpRequest request, string name) =>
        global::Loyalty.Functions.Durable.OrchestrationsApi.StartAsync(request.HttpContext, name, orchestrationClient, orchestrationRegistry, options);

    [Function("GetOrchestration")]
    [ApiKey(Role.HqAdmin, Role.Ops)]
    public Task<IResult> GetOrchestration([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "orchestrations/{instanceId}")] HttpRequest request, string instanceId) =>
        global::Loyalty.Functions.Durable.OrchestrationsApi.GetAsync(request.HttpContext, instanceId, orchestrationClient);

    [Function("ListOrchestrations")]
    [ApiKey(Role.HqAdmin, Role.Ops)]
    public Task<IResult> ListOrchestrations([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "orchestrations")] HttpRequest request) =>
        global::Loyalty.Functions.Durable.OrchestrationsApi.ListAsync(request.HttpContext, orchestrationClient);

    [Function("RaiseOrchestrationEvent")]
    [ApiKey(Role.HqAdmin, Role.Ops)]
    public Task<IResult> RaiseOrchestrationEvent([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "orchestrations/{instanceId}/events/{eventName}")] HttpRequest request, string instanceId, string eventName) =>
        global::Loyalty.Functions.Durable.OrchestrationsApi.RaiseEventAsync(request.HttpContext, instanceId, eventName, orchestrationClient, options);

    [Function("TerminateOrchestration")]
    [ApiKey(Role.HqAdmin, Role.Ops)]
    public Task<IResult> TerminateOrchestration([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "orchestrations/{instanceId}/terminate")] HttpRequest request, string instanceId) =>
        global::Loyalty.Functions.Durable.OrchestrationsApi.TerminateAsync(request.HttpContext, instanceId, orchestrationClient);

    [Function("PurgeOrchestration")]
    [ApiKey(Role.HqAdmin, Role.Ops)]
    public Task<IResult> PurgeOrchestration([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "orchestrations/{instanceId}")] HttpRequest request, string instanceId) =>
        global::Loyalty.Functions.Durable.OrchestrationsApi.PurgeAsync(request.HttpContext, instanceId, orchestrationClient);
}
