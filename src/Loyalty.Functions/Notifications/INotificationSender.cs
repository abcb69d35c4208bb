using Loyalty.Storage.Notifications;

namespace Loyalty.Functions.Notifications;

/// <summary>Delivers a notification through SMS, WeChat or e-mail. The notification id is the provider's de-duplication id.</summary>
public interface INotificationSender
{
    /// <summary>Sends one notification.</summary>
    Task SendAsync(NotificationRecord notification, CancellationToken cancellationToken);
}

/// <summary>
/// The default sender: no provider is called; the notification row (text, channel, state) is the record of what would
/// have been sent, so runs are observable without an SMS account.
/// </summary>
internal sealed class RecordingNotificationSender(ILogger<RecordingNotificationSender> logger) : INotificationSender
{
    public Task SendAsync(NotificationRecord notification, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(notification);
        logger.LogInformation(
            "Recorded {Template} {Channel} notification {NotificationId} for {MemberId} (no provider configured)",
            notification.Template, notification.Channel, notification.NotificationId, notification.MemberId);
        return Task.CompletedTask;
    }
}
