using Loyalty.Domain.Auth;
using Loyalty.Functions.Http;
using Microsoft.Azure.Functions.Worker;

namespace Loyalty.Functions.Coupons;

/// <summary>The HTTP functions of this area: trigger, route and who may call each; the handlers do the work.</summary>
internal sealed class CouponsFunctions(
    global::Loyalty.Functions.Coupons.CouponsApi couponsApi)
{
    [Function("IssueCoupons")]
    [ApiKey(Role.Ops, Role.HqAdmin)]
    public Task<IResult> IssueCoupons([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "members/{memberId}/coupons")] HttpRequest request, string memberId) =>
        couponsApi.IssueAsync(request.HttpContext, memberId);

    [Function("ListCoupons")]
    [ApiKey]
    public Task<IResult> ListCoupons([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "members/{memberId}/coupons")] HttpRequest request, string memberId) =>
        couponsApi.ListAsync(request.HttpContext, memberId);

    [Function("RevokeCoupon")]
    [ApiKey(Role.Ops, Role.HqAdmin)]
    public Task<IResult> RevokeCoupon([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "members/{memberId}/coupons/{code}/revoke")] HttpRequest request, string memberId, string code) =>
        couponsApi.RevokeAsync(request.HttpContext, memberId, code);
}
