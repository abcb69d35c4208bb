using Loyalty.Domain.Members;
using Loyalty.Functions.Http;
using Loyalty.Functions.Members;
using Loyalty.Storage.Members;
using Loyalty.Storage.Notifications;

namespace Loyalty.Functions.Notifications;

/// <summary><c>GET /api/members/{memberId}/notifications</c>: what was composed for a member and whether it went out.</summary>
internal static class ListMemberNotifications
{
    public static async Task<IResult> Handle(HttpContext http, string memberId, MemberStore members, NotificationStore notifications)
    {
        ArgumentNullException.ThrowIfNull(http);
        if (!MemberId.IsWellFormed(memberId) || !await members.ExistsAsync(memberId, http.RequestAborted))
        {
            return GetMember.NotFound();
        }

        var items = await notifications.ListAsync(memberId, http.RequestAborted);
        return TypedResults.Ok(new { items });
    }
}
