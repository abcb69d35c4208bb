using Loyalty.Domain.Auth;
using Loyalty.Functions.Http;
using Microsoft.Azure.Functions.Worker;

namespace Loyalty.Functions.Ops;

/// <summary>The HTTP functions of this area: trigger, route and who may call each; the handlers do the work.</summary>
internal sealed class OpsFunctions(
    global::Loyalty.Storage.Ledger.Reconciler reconciler,
    global::Loyalty.Storage.Schema.TableStore tableStore)
{
    [Function("Reconcile")]
    [ApiKey(Role.HqAdmin, Role.Ops)]
    public Task<IResult> Reconcile([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "ops/reconcile")] HttpRequest request) =>
        global::Loyalty.Functions.Ops.ReconcileApi.Handle(request.HttpContext, reconciler);

    [Function("ListPoisonMessages")]
    [ApiKey(Role.HqAdmin, Role.Ops)]
    public Task<IResult> ListPoisonMessages([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "ops/queues/{queue}/poison")] HttpRequest request, string queue) =>
        global::Loyalty.Functions.Ops.QueueOpsApi.ListPoisonAsync(request.HttpContext, queue, tableStore);

    [Function("ReplayPoisonMessages")]
    [ApiKey(Role.HqAdmin, Role.Ops)]
    public Task<IResult> ReplayPoisonMessages([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "ops/queues/{queue}/poison/replay")] HttpRequest request, string queue) =>
        global::Loyalty.Functions.Ops.QueueOpsApi.ReplayPoisonAsync(request.HttpContext, queue, tableStore);

    [Function("ListOrderEvents")]
    [ApiKey(Role.HqAdmin, Role.Ops)]
    public Task<IResult> ListOrderEvents([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "ops/order-events")] HttpRequest request) =>
        global::Loyalty.Functions.Ops.QueueOpsApi.ListOrderEventsAsync(request.HttpContext, tableStore);

    [Function("ReplayOrderEvent")]
    [ApiKey(Role.HqAdmin, Role.Ops)]
    public Task<IResult> ReplayOrderEvent([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "ops/order-events/{source}/{storeId}/{eventId}/replay")] HttpRequest request, string source, string storeId, string eventId) =>
        global::Loyalty.Functions.Ops.QueueOpsApi.ReplayOrderEventAsync(request.HttpContext, source, storeId, eventId, tableStore);
}
