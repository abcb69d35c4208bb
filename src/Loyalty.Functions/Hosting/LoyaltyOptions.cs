using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Hosting;

/// <summary>How the app is hosted (design.md section 1).</summary>
public enum HostingMode
{
    /// <summary>Run by the local Functions host (src/Loyalty.LocalHost) or <c>func start</c> on a developer machine.</summary>
    Local,
    /// <summary>Run by the Functions host in an Azure Function App.</summary>
    Azure,
}

/// <summary>Transports of integration events.</summary>
public enum EventTransportKind
{
    /// <summary>The <c>integration-events</c> Storage queue (local runs, tests).</summary>
    Queue,
    /// <summary>A Service Bus topic (Azure), identity-based through the <c>LoyaltyEvents</c> connection settings.</summary>
    ServiceBus,
    /// <summary>None: webhooks only.</summary>
    None,
}

/// <summary>App settings under <c>Loyalty</c> (environment: <c>Loyalty__Name</c>). Validated at start-up.</summary>
public sealed class LoyaltyOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Loyalty";

    /// <summary>Name of the app setting holding the app's storage connection (string, or identity-based settings).</summary>
    public const string StorageConnection = "LoyaltyStorage";

    /// <summary>Local or Azure; Azure when the platform's WEBSITE_SITE_NAME is set.</summary>
    public HostingMode HostingMode { get; set; } = HostingMode.Local;

    /// <summary>Secret key of the keyed phone hash used by the phone index (at least 16 characters).</summary>
    public string PhoneHashKey { get; set; } = string.Empty;

    /// <summary>Leading digits of the chain's card numbers (1-6 digits).</summary>
    public string CardPrefix { get; set; } = "8860";

    /// <summary>The chain's time zone (IANA id): member days, birthdays, period boundaries.</summary>
    public string TimeZone { get; set; } = "Asia/Shanghai";

    /// <summary>Largest accepted request body.</summary>
    public int MaxRequestBodyBytes { get; set; } = 64 * 1024;

    /// <summary>Largest accepted batch file (HQ member imports and top-ups).</summary>
    public int MaxBatchBytes { get; set; } = 25 * 1024 * 1024;

    /// <summary>Most data rows in one batch file.</summary>
    public int MaxBatchRows { get; set; } = 200_000;

    /// <summary>
    /// An HQ batch's next wave waits while the report-facts and member-events queues hold more messages than this
    /// (0: never waits). A few seconds of the projection's work in Azure; on Azurite, whose every queue operation costs
    /// in proportion to the messages waiting, 250 doubled a 100,000-row import's rate against 2,000 (performance.md).
    /// </summary>
    public int BatchBacklogLimit { get; set; } = 250;

    /// <summary>Prefix of every table name (tests and parallel local runs); empty in production.</summary>
    public string TablePrefix { get; set; } = string.Empty;

    /// <summary>Prefix of every queue name; empty in production.</summary>
    public string QueuePrefix { get; set; } = string.Empty;

    /// <summary>How long completed idempotency records of enrolments are kept.</summary>
    public int IdempotencyRetentionDays { get; set; } = 7;

    /// <summary>An API key to register as the HQ administrator at start-up (LOYALTY_ADMIN_KEY).</summary>
    public string? AdminApiKey { get; set; }

    /// <summary>How long an order event waits before it is tried again (e.g. a refund that arrived before its order).</summary>
    public int OrderEventRetrySeconds { get; set; } = 30;

    /// <summary>Where integration events are published: a Storage queue locally, a Service Bus topic in Azure, or nowhere.</summary>
    public EventTransportKind EventTransport { get; set; } = EventTransportKind.Queue;

    /// <summary>The Service Bus topic of integration events (namespace: the <c>LoyaltyEvents</c> connection settings).</summary>
    public string EventTopic { get; set; } = "loyalty-events";

    /// <summary>Whether webhook endpoints may be on loopback (local runs and tests; never in Azure).</summary>
    public bool WebhookAllowLoopback { get; set; }

    /// <summary>Delays between webhook attempts after a failure; when used up (or after 24 h) the delivery is parked.</summary>
    public string WebhookRetrySchedule { get; set; } = "5s,5m,30m,2h,5h,10h";

    /// <summary>How long a webhook endpoint has to answer one attempt.</summary>
    public int WebhookTimeoutSeconds { get; set; } = 10;

    /// <summary>The chain's time zone, resolved.</summary>
    public TimeZoneInfo ChainTimeZone => TimeZoneInfo.FindSystemTimeZoneById(TimeZone);

    /// <summary>The chain-local day of an instant.</summary>
    public DateOnly LocalDay(DateTimeOffset at) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(at, ChainTimeZone).DateTime);
}

/// <summary>Start-up validation: a misconfigured app refuses to start with a message naming the setting.</summary>
internal sealed class LoyaltyOptionsValidator : IValidateOptions<LoyaltyOptions>
{
    public ValidateOptionsResult Validate(string? name, LoyaltyOptions options)
    {
        var failures = new List<string>();
        if (options.PhoneHashKey.Length < 16)
        {
            failures.Add("Loyalty__PhoneHashKey must be set to a secret of at least 16 characters.");
        }

        if (options.CardPrefix.Length is < 1 or > 6 || !options.CardPrefix.All(char.IsAsciiDigit))
        {
            failures.Add("Loyalty__CardPrefix must be 1-6 digits.");
        }

        if (!TimeZoneInfo.TryFindSystemTimeZoneById(options.TimeZone, out _))
        {
            failures.Add($"Loyalty__TimeZone '{options.TimeZone}' is not a known time zone.");
        }

        if (options.MaxRequestBodyBytes is < 1024 or > 4 * 1024 * 1024)
        {
            failures.Add("Loyalty__MaxRequestBodyBytes must be between 1 KiB and 4 MiB.");
        }

        if (options.MaxBatchBytes is < 1024 or > 28 * 1024 * 1024)
        {
            failures.Add("Loyalty__MaxBatchBytes must be between 1 KiB and 28 MiB (the Functions host refuses larger requests).");
        }

        if (options.MaxBatchRows is < 1 or > 1_000_000)
        {
            failures.Add("Loyalty__MaxBatchRows must be 1-1,000,000.");
        }

        if (options.BatchBacklogLimit is not 0 and (< 100 or > 1_000_000))
        {
            failures.Add("Loyalty__BatchBacklogLimit must be 0 (no pause) or 100-1,000,000.");
        }

        try
        {
            if (Events.WebhookDeliverer.RetrySchedule(options.WebhookRetrySchedule).Count is 0 or > 20)
            {
                failures.Add("Loyalty__WebhookRetrySchedule must list 1-20 delays.");
            }
        }
        catch (FormatException ex)
        {
            failures.Add("Loyalty__WebhookRetrySchedule: " + ex.Message);
        }

        if (options.WebhookTimeoutSeconds is < 1 or > 60)
        {
            failures.Add("Loyalty__WebhookTimeoutSeconds must be 1-60.");
        }

        if (options.HostingMode == HostingMode.Azure && options.WebhookAllowLoopback)
        {
            failures.Add("Loyalty__WebhookAllowLoopback may not be true in Azure.");
        }

        if (options.IdempotencyRetentionDays is < 1 or > 90)
        {
            failures.Add("Loyalty__IdempotencyRetentionDays must be 1-90.");
        }

        if (options.AdminApiKey is { Length: > 0 and < 24 })
        {
            failures.Add("LOYALTY_ADMIN_KEY must be at least 24 characters.");
        }

        try
        {
            _ = new Loyalty.Storage.Schema.StorageNames(options.TablePrefix, options.QueuePrefix);
        }
        catch (ArgumentException ex)
        {
            failures.Add(ex.Message);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
