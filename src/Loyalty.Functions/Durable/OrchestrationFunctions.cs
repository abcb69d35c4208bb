using Loyalty.Domain.Auth;
using Loyalty.Functions.Http;
using Loyalty.Storage.Idempotency;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Durable;

/// <summary>The management API's HTTP functions: each takes the Durable Task client through its [DurableClient] binding.</summary>
internal sealed class OrchestrationFunctions(IdempotencyStore idempotency, IOptions<Hosting.LoyaltyOptions> options)
{
    [Function("StartOrchestration")]
    [ApiKey(Role.HqAdmin, Role.Ops)]
    public Task<IResult> StartOrchestration([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "orchestrations/{name}")] HttpRequest request, [DurableClient] DurableTaskClient durable, string name) =>
        OrchestrationsApi.StartAsync(request.HttpContext, name, durable, options);

    [Function("GetOrchestration")]
    [ApiKey(Role.HqAdmin, Role.Ops)]
    public static Task<IResult> GetOrchestration([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "orchestrations/{instanceId}")] HttpRequest request, [DurableClient] DurableTaskClient durable, string instanceId) =>
        OrchestrationsApi.GetAsync(request.HttpContext, instanceId, durable);

    [Function("ListOrchestrations")]
    [ApiKey(Role.HqAdmin, Role.Ops)]
    public static Task<IResult> ListOrchestrations([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "orchestrations")] HttpRequest request, [DurableClient] DurableTaskClient durable) =>
        OrchestrationsApi.ListAsync(request.HttpContext, durable);

    [Function("RaiseOrchestrationEvent")]
    [ApiKey(Role.HqAdmin, Role.Ops)]
    public Task<IResult> RaiseOrchestrationEvent([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "orchestrations/{instanceId}/events/{eventName}")] HttpRequest request, [DurableClient] DurableTaskClient durable, string instanceId, string eventName) =>
        OrchestrationsApi.RaiseEventAsync(request.HttpContext, instanceId, eventName, durable, idempotency, options);

    [Function("TerminateOrchestration")]
    [ApiKey(Role.HqAdmin, Role.Ops)]
    public static Task<IResult> TerminateOrchestration([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "orchestrations/{instanceId}/terminate")] HttpRequest request, [DurableClient] DurableTaskClient durable, string instanceId) =>
        OrchestrationsApi.TerminateAsync(request.HttpContext, instanceId, durable);

    [Function("PurgeOrchestration")]
    [ApiKey(Role.HqAdmin, Role.Ops)]
    public static Task<IResult> PurgeOrchestration([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "orchestrations/{instanceId}")] HttpRequest request, [DurableClient] DurableTaskClient durable, string instanceId) =>
        OrchestrationsApi.PurgeAsync(request.HttpContext, instanceId, durable);
}
