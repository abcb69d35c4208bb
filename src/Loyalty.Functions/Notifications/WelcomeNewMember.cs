using System.Text.Json;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Http;
using Loyalty.Functions.Members;
using Loyalty.Storage.Members;
using Loyalty.Storage.Notifications;
using Loyalty.Storage.Org;
using Loyalty.Storage.Schema;

namespace Loyalty.Functions.Notifications;

/// <summary>
/// Queue-triggered (member-enrolled): composes the welcome SMS and puts it in the notifications outbox. The
/// notification id is fixed (<c>welcome</c>), so a redelivered message never composes a second one; if an earlier
/// delivery stopped after composing, this one still queues it.
/// </summary>
internal sealed class WelcomeNewMember(MemberStore members, OrgStore org, NotificationStore notifications, TableStore store, TimeProvider time) : IQueueFunction
{
    public const string NotificationId = "welcome";

    public async Task RunAsync(QueueInvocation invocation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        var message = JsonSerializer.Deserialize<MemberEnrolled>(invocation.Body, JsonDefaults.Options)
            ?? throw new InvalidDataException("Empty member-enrolled message.");
        var member = await members.GetAsync(message.MemberId, cancellationToken)
            ?? throw new InvalidOperationException($"Member {message.MemberId} does not exist.");
        var chain = (await org.GetRequiredAsync(cancellationToken)).Hq.Name;
        var card = member.Cards.OrderBy(c => c.IssuedAt).First().CardNumber;
        var text = $"{member.Profile.Name}，欢迎加入{chain}会员！您的会员卡尾号 {card[^4..]}。";
        var record = new NotificationRecord(message.MemberId, NotificationId, "sms", "welcome", text, "queued", time.GetUtcNow(), null);
        if (!await notifications.AddAsync(record, cancellationToken))
        {
            var existing = await notifications.GetAsync(message.MemberId, NotificationId, cancellationToken);
            if (existing?.Status == "sent")
            {
                return;
            }
        }

        await store.Queue(store.Names.NotificationsQueue).SendMessageAsync(
            JsonSerializer.Serialize(new NotificationMessage(message.MemberId, NotificationId), JsonDefaults.Options),
            cancellationToken: cancellationToken);
    }
}
