using Loyalty.Functions.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Loyalty.Functions.StoredValue;

/// <summary>The HTTP functions of this area: trigger, route and who may call each; the handlers do the work.</summary>
internal sealed class StoredValueFunctions(
    global::Loyalty.Functions.StoredValue.TopUp topUp,
    global::Loyalty.Functions.StoredValue.RefundStoredValue refundStoredValue)
{
    [Function("TopUp")]
    [ApiKey]
    public Task<IResult> TopUp([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "members/{memberId}/top-ups")] HttpRequest request, string memberId) =>
        topUp.HandleAsync(request.HttpContext, memberId);

    [Function("RefundStoredValue")]
    [ApiKey]
    public Task<IResult> RefundStoredValue([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "members/{memberId}/stored-value-refunds")] HttpRequest request, [DurableClient] DurableTaskClient durable, string memberId) =>
        refundStoredValue.HandleAsync(request.HttpContext, memberId);
}
