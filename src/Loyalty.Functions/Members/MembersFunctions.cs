using Loyalty.Functions.Http;
using Microsoft.Azure.Functions.Worker;

namespace Loyalty.Functions.Members;

/// <summary>The HTTP functions of this area: trigger, route and who may call each; the handlers do the work.</summary>
internal sealed class MembersFunctions(
    global::Loyalty.Functions.Members.EnrolMember enrolMember,
    global::Loyalty.Storage.Members.MemberStore memberStore,
    global::Loyalty.Functions.Members.MemberViews memberViews,
    global::Microsoft.Extensions.Options.IOptions<global::Loyalty.Functions.Hosting.LoyaltyOptions> options)
{
    [Function("EnrolMember")]
    [ApiKey]
    public Task<IResult> EnrolMember([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "members")] HttpRequest request) =>
        enrolMember.HandleAsync(request.HttpContext);

    [Function("FindMember")]
    [ApiKey]
    public Task<IResult> FindMember([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "members")] HttpRequest request) =>
        global::Loyalty.Functions.Members.FindMember.Handle(request.HttpContext, memberStore, memberViews, options);

    [Function("GetMember")]
    [ApiKey]
    public Task<IResult> GetMember([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "members/{memberId}")] HttpRequest request, string memberId) =>
        global::Loyalty.Functions.Members.GetMember.Handle(request.HttpContext, memberId, memberStore, memberViews);
}
