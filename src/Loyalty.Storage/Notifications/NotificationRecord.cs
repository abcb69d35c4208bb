namespace Loyalty.Storage.Notifications;

/// <summary>A notification composed for a member, and what became of it.</summary>
/// <param name="MemberId">Recipient member.</param>
/// <param name="NotificationId">Stable id (also the sender's de-duplication id), e.g. <c>welcome</c>.</param>
/// <param name="Channel">sms, wechat or email.</param>
/// <param name="Template">Template code.</param>
/// <param name="Text">Text as it would be sent.</param>
/// <param name="Status">queued, sent or failed.</param>
/// <param name="CreatedAt">When composed.</param>
/// <param name="SentAt">When handed to the sender.</param>
public sealed record NotificationRecord(
    string MemberId,
    string NotificationId,
    string Channel,
    string Template,
    string Text,
    string Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset? SentAt);
