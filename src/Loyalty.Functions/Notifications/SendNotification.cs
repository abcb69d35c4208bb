using System.Text.Json;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Http;
using Loyalty.Storage.Notifications;

namespace Loyalty.Functions.Notifications;

/// <summary>Queue-triggered (notifications outbox): hands a stored notification to the sender once, then marks it sent.</summary>
internal sealed class SendNotification(NotificationStore notifications, INotificationSender sender, TimeProvider time) : IQueueFunction
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

        await sender.SendAsync(record, cancellationToken);
        await notifications.MarkSentAsync(record.MemberId, record.NotificationId, time.GetUtcNow(), cancellationToken);
    }
}
