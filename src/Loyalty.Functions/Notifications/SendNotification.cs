using System.Text.Json;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Http;
using Loyalty.Storage.Notifications;

namespace Loyalty.Functions.Notifications;

/// <summary>
/// Queue-triggered (notifications outbox): publishes a stored notification's <c>notification.requested</c> event (for
/// the chain's SMS / WeChat gateway: the message without the phone number, the gateway reads the member), hands it to
/// the sender once, then marks it sent. The event goes straight to the transport and the webhooks, with no Outbox row:
/// until the notification is marked sent, a redelivered message (or a replayed poison message) publishes it again
/// under the same id, which is the guarantee the Outbox row would give.
/// </summary>
internal sealed class SendNotification(NotificationStore notifications, INotificationSender sender, Events.SystemEvents events, TimeProvider time) : IQueueFunction
{
    public async Task RunAsync(QueueInvocation invocation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        var message = JsonSerializer.Deserialize<NotificationMessage>(invocation.Body, JsonDefaults.Options)
            ?? throw new InvalidDataException("Empty notification message.");
        var record = await notifications.GetAsync(message.MemberId, message.NotificationId, cancellationToken)
            ?? throw new InvalidOperationException($"Notification {message.NotificationId} of {message.MemberId} does not exist.");
        if (record.Status == "sent")
        {
            return;
        }

        await events.PublishFromRepeatedStepAsync(
            $"notification-{record.MemberId}-{record.NotificationId}",
            Loyalty.Domain.Events.EventCatalogue.NotificationRequested,
            new System.Text.Json.Nodes.JsonObject
            {
                ["memberId"] = record.MemberId, ["notificationId"] = record.NotificationId, ["channel"] = record.Channel,
                ["template"] = record.Template, ["text"] = record.Text, ["marketing"] = message.Marketing,
            },
            cancellationToken);
        await sender.SendAsync(record, cancellationToken);
        await notifications.MarkSentAsync(record.MemberId, record.NotificationId, time.GetUtcNow(), cancellationToken);
    }
}
