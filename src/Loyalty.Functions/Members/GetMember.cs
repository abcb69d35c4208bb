using Loyalty.Domain.Members;
using Loyalty.Functions.Http;
using Loyalty.Storage.Members;

namespace Loyalty.Functions.Members;

/// <summary><c>GET /api/members/{memberId}</c>: profile, cards, balances, tier and the points that expire next. Members are chain-wide, so any staff role may read one.</summary>
internal static class GetMember
{
    public static async Task<IResult> Handle(HttpContext http, string memberId, MemberStore members, MemberViews views)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(views);
        var member = MemberId.IsWellFormed(memberId) ? await members.GetAsync(memberId, http.RequestAborted) : null;
        return member is null
            ? NotFound()
            : TypedResults.Ok(await views.BuildAsync(member, http.Caller().Role, http.RequestAborted));
    }

    public static IResult NotFound() =>
        Problems.Create(StatusCodes.Status404NotFound, "member_not_found", "No such member.");
}
