namespace Loyalty.Functions.Notifications;

/// <summary>Message on the notifications outbox queue: which stored notification to deliver.</summary>
internal sealed record NotificationMessage(string MemberId, string NotificationId);
