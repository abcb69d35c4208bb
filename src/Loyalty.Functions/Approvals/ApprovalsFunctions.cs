using Loyalty.Domain.Auth;
using Loyalty.Functions.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Loyalty.Functions.Approvals;

/// <summary>The HTTP functions of this area: trigger, route and who may call each; the handlers do the work.</summary>
internal sealed class ApprovalsFunctions(
    global::Loyalty.Functions.Approvals.ApprovalsApi approvalsApi)
{
    [Function("ListApprovals")]
    [ApiKey]
    public Task<IResult> ListApprovals([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "approvals")] HttpRequest request) =>
        approvalsApi.ListAsync(request.HttpContext);

    [Function("GetApproval")]
    [ApiKey]
    public Task<IResult> GetApproval([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "approvals/{approvalId}")] HttpRequest request, string approvalId) =>
        approvalsApi.GetAsync(request.HttpContext, approvalId);

    [Function("DecideApproval")]
    [ApiKey(Role.StoreManager, Role.RegionManager, Role.HqAdmin)]
    public Task<IResult> DecideApproval([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "approvals/{approvalId}/decision")] HttpRequest request, [DurableClient] DurableTaskClient durable, string approvalId) =>
        approvalsApi.DecideAsync(request.HttpContext, approvalId);
}
