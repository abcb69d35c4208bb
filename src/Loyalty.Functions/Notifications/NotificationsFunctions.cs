using Loyalty.Functions.Http;
using Microsoft.Azure.Functions.Worker;

namespace Loyalty.Functions.Notifications;

/// <summary>The HTTP functions of this area: trigger, route and who may call each; the handlers do the work.</summary>
internal sealed class NotificationsFunctions(
    global::Loyalty.Storage.Members.MemberStore memberStore,
    global::Loyalty.Storage.Notifications.NotificationStore notificationStore)
{
    [Function("ListMemberNotifications")]
    [ApiKey]
    public Task<IResult> ListMemberNotifications([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "members/{memberId}/notifications")] HttpRequest request, string memberId) =>
        global::Loyalty.Functions.Notifications.ListMemberNotifications.Handle(request.HttpContext, memberId, memberStore, notificationStore);
}
