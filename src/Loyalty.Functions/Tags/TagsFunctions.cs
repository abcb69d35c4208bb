using Loyalty.Domain.Auth;
using Loyalty.Functions.Http;
using Microsoft.Azure.Functions.Worker;

namespace Loyalty.Functions.Tags;

/// <summary>The HTTP functions of this area: trigger, route and who may call each; the handlers do the work.</summary>
internal sealed class TagsFunctions(
    global::Loyalty.Functions.Tags.TagsApi tagsApi)
{
    [Function("SetMemberTags")]
    [ApiKey(Role.StoreManager, Role.RegionManager, Role.HqAdmin, Role.Ops)]
    public Task<IResult> SetMemberTags([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "members/{memberId}/tags")] HttpRequest request, string memberId) =>
        tagsApi.SetManualAsync(request.HttpContext, memberId);

    [Function("ListTaggedMembers")]
    [ApiKey]
    public Task<IResult> ListTaggedMembers([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "tags/{tag}/members")] HttpRequest request, string tag) =>
        tagsApi.ListMembersAsync(request.HttpContext, tag);
}
