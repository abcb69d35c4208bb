using Loyalty.Domain.Members;
using Loyalty.Functions.Http;
using Loyalty.Storage.Members;

namespace Loyalty.Functions.Members;

/// <summary><c>GET /api/members/{memberId}</c>: profile, cards, balances and tier. Members are chain-wide, so any staff role may read one.</summary>
internal static class GetMember
{
    public static async Task<IResult> Handle(HttpContext http, string memberId, MemberStore members)
    {
        ArgumentNullException.ThrowIfNull(http);
        var member = MemberId.IsWellFormed(memberId) ? await members.GetAsync(memberId, http.RequestAborted) : null;
        return member is null
            ? NotFound()
            : TypedResults.Ok(MemberView.From(member, http.Caller().Role));
    }

    public static IResult NotFound() =>
        Problems.Create(StatusCodes.Status404NotFound, "member_not_found", "No such member.");
}
