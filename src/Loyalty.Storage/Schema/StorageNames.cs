namespace Loyalty.Storage.Schema;

/// <summary>
/// Names of the app's tables and queues. A prefix (a setting, empty in production) lets tests and parallel local
/// runs share one storage account without seeing each other's data.
/// </summary>
public sealed class StorageNames
{
    /// <summary>Creates the names with optional prefixes (table prefix: letters and digits; queue prefix: lowercase, digits, '-').</summary>
    public StorageNames(string? tablePrefix = null, string? queuePrefix = null)
    {
        TablePrefix = tablePrefix ?? string.Empty;
        QueuePrefix = queuePrefix ?? string.Empty;
        if (TablePrefix.Length > 20 || !TablePrefix.All(char.IsAsciiLetterOrDigit) || (TablePrefix.Length > 0 && !char.IsAsciiLetter(TablePrefix[0])))
        {
            throw new ArgumentException("The table prefix is up to 20 letters and digits, starting with a letter.", nameof(tablePrefix));
        }

        if (QueuePrefix.Length > 20 || !QueuePrefix.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
        {
            throw new ArgumentException("The queue prefix is up to 20 lowercase letters, digits and '-'.", nameof(queuePrefix));
        }
    }

    /// <summary>Table prefix.</summary>
    public string TablePrefix { get; }

    /// <summary>Queue prefix.</summary>
    public string QueuePrefix { get; }

    /// <summary>Member partitions: profile, account, cards (later: ledger, idempotency, sales).</summary>
    public string Members => TablePrefix + "Members";

    /// <summary>Uniqueness and lookup index: phone hash and card number to member id.</summary>
    public string MemberIndex => TablePrefix + "MemberIndex";

    /// <summary>Idempotency records of operations that span partitions (enrolment).</summary>
    public string Idempotency => TablePrefix + "Idempotency";

    /// <summary>Versioned org tree.</summary>
    public string Org => TablePrefix + "Org";

    /// <summary>API principals, keyed by key hash.</summary>
    public string Principals => TablePrefix + "Principals";

    /// <summary>Audit trail of administrative changes.</summary>
    public string Audit => TablePrefix + "Audit";

    /// <summary>Notifications composed for members, with their delivery state.</summary>
    public string Notifications => TablePrefix + "Notifications";

    /// <summary>Programme configuration documents.</summary>
    public string Config => TablePrefix + "Config";

    /// <summary>Sale id to member id, so refunds find their sale.</summary>
    public string SaleIndex => TablePrefix + "SaleIndex";

    /// <summary>Webhook signing secrets of online shops.</summary>
    public string ShopSecrets => TablePrefix + "ShopSecrets";

    /// <summary>What became of each order event (processed, ignored, parked with a reason).</summary>
    public string OrderEvents => TablePrefix + "OrderEvents";

    /// <summary>Coupon issue counters of limited templates, and the expiry and reminder schedule.</summary>
    public string Coupons => TablePrefix + "Coupons";

    /// <summary>
    /// Work lists of the scheduled jobs: members who earned points in a month (<c>points-{yyyy-MM}</c>, for points
    /// expiry) and members above the entry tier (<c>tiered</c>, for the period-end tier evaluation).
    /// </summary>
    public string Schedules => TablePrefix + "Schedules";

    /// <summary>Members by tag (<c>tag-{tag}</c> partitions), for segments and filters.</summary>
    public string Segments => TablePrefix + "Segments";

    /// <summary>Approval requests (one partition; <c>a-{id}</c> rows and <c>pending-{id}</c> index rows).</summary>
    public string Approvals => TablePrefix + "Approvals";

    /// <summary>Each operator's use today of authority-limited actions.</summary>
    public string AuthorityUsage => TablePrefix + "AuthorityUsage";

    /// <summary>Campaign work lists: the members a reactivation campaign targets (<c>targets-{campaignId}</c>).</summary>
    public string Campaigns => TablePrefix + "Campaigns";

    /// <summary>
    /// Report aggregates: per store (<c>s-{storeId}</c> partitions) the counters of each day (<c>d-{day}-{shard}</c>),
    /// running totals (<c>t-{shard}</c>), the markers of facts already counted, and the programme-health snapshots.
    /// </summary>
    public string Reports => TablePrefix + "Reports";

    /// <summary>HQ batches (member imports, top-ups): one row per batch, and the index of the files already imported.</summary>
    public string Batches => TablePrefix + "Batches";

    /// <summary>The blob container of batch files and their staged chunks and results (lowercase: container names are).</summary>
    public string BatchContainer => TablePrefix.ToLowerInvariant() + "batches";

    /// <summary>Registered webhook endpoints (one partition) with their secrets.</summary>
    public string WebhookEndpoints => TablePrefix + "WebhookEndpoints";

    /// <summary>The delivery log: one row per endpoint (partition) and event, with its state and attempts.</summary>
    public string WebhookDeliveries => TablePrefix + "WebhookDeliveries";

    /// <summary>The outbox of events that belong to no member (approvals, campaigns), one partition per stream.</summary>
    public string Outbox => TablePrefix + "Outbox";

    /// <summary>All tables, for start-up creation.</summary>
    public IReadOnlyList<string> AllTables => [Members, MemberIndex, Idempotency, Org, Principals, Audit, Notifications, Config, SaleIndex, ShopSecrets, OrderEvents, Coupons, Schedules, Segments, Approvals, Campaigns, Reports, AuthorityUsage, Batches, WebhookEndpoints, WebhookDeliveries, Outbox];

    /// <summary>Queue of freshly enrolled members (feeds the welcome notification).</summary>
    public string MemberEnrolledQueue => QueuePrefix + "member-enrolled";

    /// <summary>The notifications outbox.</summary>
    public string NotificationsQueue => QueuePrefix + "notifications";

    /// <summary>Report facts of committed member transactions, for the report projector.</summary>
    public string ReportFactsQueue => QueuePrefix + "report-facts";

    /// <summary>Order events of online shops (and events that must wait, from either source).</summary>
    public string OrderEventsQueue => QueuePrefix + "order-events";

    /// <summary>POS sales events (a Storage queue until an isolated Service Bus trigger is served; decision 0007).</summary>
    public string PosSalesQueue => QueuePrefix + "pos-sales";

    /// <summary>Outbox rows written by member transactions without report facts, for the event dispatcher.</summary>
    public string MemberEventsQueue => QueuePrefix + "member-events";

    /// <summary>Webhook deliveries waiting for their next attempt (exponential backoff).</summary>
    public string WebhookRetriesQueue => QueuePrefix + "webhook-retries";

    /// <summary>
    /// The local transport of integration events (CloudEvents JSON, one per message) where no Service Bus namespace is
    /// configured: what the chain's systems would read from the topic.
    /// </summary>
    public string IntegrationEventsQueue => QueuePrefix + "integration-events";

    /// <summary>Every queue the app reads or writes, for start-up creation and the poison-queue tools.</summary>
    public IReadOnlyList<string> AllQueues => [MemberEnrolledQueue, NotificationsQueue, ReportFactsQueue, OrderEventsQueue, PosSalesQueue, MemberEventsQueue, WebhookRetriesQueue, IntegrationEventsQueue];

    /// <summary>The poison queue the host (and the local listener) moves failing messages to.</summary>
    public static string Poison(string queue) => queue + "-poison";
}
