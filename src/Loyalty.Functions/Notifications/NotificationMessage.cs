namespace Loyalty.Functions.Notifications;

/// <summary>
/// Message on the notifications outbox queue: which stored notification to deliver, and whether it is marketing (for
/// its <c>notification.requested</c> event; a message without it counts as not marketing).
/// </summary>
internal sealed record NotificationMessage(string MemberId, string NotificationId, bool Marketing = false);
