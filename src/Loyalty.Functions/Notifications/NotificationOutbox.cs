using System.Text.Json;
using Loyalty.Functions.Http;
using Loyalty.Storage.Members;
using Loyalty.Storage.Notifications;
using Loyalty.Storage.Schema;

namespace Loyalty.Functions.Notifications;

/// <summary>How a composed notification was handled.</summary>
internal enum OutboxResult
{
    /// <summary>Stored and put on the outbox queue.</summary>
    Queued,
    /// <summary>Already sent earlier under the same id; nothing done.</summary>
    AlreadySent,
    /// <summary>A marketing message for a member who has not consented; nothing stored.</summary>
    NoConsent,
}

/// <summary>
/// The notifications outbox: a notification is stored under a stable id first (so the same event never composes two),
/// then its id goes on the notifications queue, whose function hands it to the sender once. Marketing messages
/// (offers, reminders, birthday gifts) go only to members who consented.
/// </summary>
internal sealed class NotificationOutbox(NotificationStore notifications, MemberStore members, TableStore store, Events.SystemEvents events, TimeProvider time)
{
    /// <summary>Composes <paramref name="text"/> for a member under <paramref name="notificationId"/> and queues it.</summary>
    public async Task<OutboxResult> QueueAsync(string memberId, string notificationId, string template, string text, bool marketing, CancellationToken cancellationToken)
    {
        if (marketing)
        {
            var member = await members.GetAsync(memberId, cancellationToken);
            if (member is null || !member.Profile.MarketingConsent)
            {
                return OutboxResult.NoConsent;
            }
        }

        var record = new NotificationRecord(memberId, notificationId, "sms", template, text, "queued", time.GetUtcNow(), null);
        if (!await notifications.AddAsync(record, cancellationToken) &&
            (await notifications.GetAsync(memberId, notificationId, cancellationToken))?.Status == "sent")
        {
            return OutboxResult.AlreadySent;
        }

        // For the chain's SMS / WeChat gateway: the message without the phone number (the gateway reads the member).
        var published = events.PublishAsync(
            $"notification-{memberId}-{notificationId}",
            Loyalty.Domain.Events.EventCatalogue.NotificationRequested,
            new System.Text.Json.Nodes.JsonObject { ["memberId"] = memberId, ["notificationId"] = notificationId, ["channel"] = "sms", ["template"] = template, ["text"] = text, ["marketing"] = marketing },
            cancellationToken);

        // Composed now or by an earlier attempt that stopped before queueing: queue it (the sender skips sent ones).
        // Neither step needs the other, so they run together; a caller that stops in either repeats both, and both
        // are idempotent (the event's stream is named by the notification, the sender skips a sent notification).
        var queued = store.Queue(store.Names.NotificationsQueue).SendMessageAsync(
            JsonSerializer.Serialize(new NotificationMessage(memberId, notificationId), JsonDefaults.Options),
            cancellationToken: cancellationToken);
        await Task.WhenAll(published, queued);
        return OutboxResult.Queued;
    }
}
