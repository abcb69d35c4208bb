namespace Loyalty.Functions.Hosting;

/// <summary>
/// Queue names as trigger attributes need them: constants with the <c>Loyalty:QueuePrefix</c> setting as a binding
/// expression, which the host resolves (empty in production; tests give each app its own prefix). They name the same
/// queues as <see cref="Storage.Schema.StorageNames"/> (a test checks that).
/// </summary>
internal static class QueueNames
{
    /// <summary>The binding expression of the queue prefix setting.</summary>
    public const string Prefix = "%Loyalty:QueuePrefix%";

    public const string MemberEnrolled = Prefix + "member-enrolled";
    public const string Notifications = Prefix + "notifications";
    public const string OrderEvents = Prefix + "order-events";
    public const string PosSales = Prefix + "pos-sales";
    public const string ReportFacts = Prefix + "report-facts";
    public const string MemberEvents = Prefix + "member-events";
    public const string WebhookRetries = Prefix + "webhook-retries";
}
