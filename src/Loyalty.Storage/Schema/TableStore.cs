using Loyalty.Storage.Queues;
using Loyalty.Storage.Tables;

namespace Loyalty.Storage.Schema;

/// <summary>Clients for the app's tables and queues, resolved once and shared.</summary>
public sealed class TableStore
{
    private readonly Func<string, ITableClient> _tables;
    private readonly Func<string, IQueueClient> _queues;

    /// <summary>Creates the store over client factories (tests pass fault-injecting ones).</summary>
    public TableStore(StorageNames names, Func<string, ITableClient> tables, Func<string, IQueueClient> queues)
    {
        Names = names ?? throw new ArgumentNullException(nameof(names));
        _tables = tables ?? throw new ArgumentNullException(nameof(tables));
        _queues = queues ?? throw new ArgumentNullException(nameof(queues));
        Members = tables(names.Members);
        MemberIndex = tables(names.MemberIndex);
        Idempotency = tables(names.Idempotency);
        Org = tables(names.Org);
        Principals = tables(names.Principals);
        Audit = tables(names.Audit);
        Notifications = tables(names.Notifications);
        Config = tables(names.Config);
        SaleIndex = tables(names.SaleIndex);
        ShopSecrets = tables(names.ShopSecrets);
        OrderEvents = tables(names.OrderEvents);
        Coupons = tables(names.Coupons);
        Schedules = tables(names.Schedules);
        Segments = tables(names.Segments);
        Approvals = tables(names.Approvals);
        Campaigns = tables(names.Campaigns);
        Reports = tables(names.Reports);
    }

    /// <summary>Report aggregates.</summary>
    public ITableClient Reports { get; }

    /// <summary>Approval requests.</summary>
    public ITableClient Approvals { get; }

    /// <summary>Campaign work lists.</summary>
    public ITableClient Campaigns { get; }

    /// <summary>Members by tag.</summary>
    public ITableClient Segments { get; }

    /// <summary>Work lists of the scheduled jobs (points expiry, tier evaluation).</summary>
    public ITableClient Schedules { get; }

    /// <summary>Coupon counters and schedule.</summary>
    public ITableClient Coupons { get; }

    /// <summary>Webhook secrets.</summary>
    public ITableClient ShopSecrets { get; }

    /// <summary>Order event outcomes.</summary>
    public ITableClient OrderEvents { get; }

    /// <summary>Names in use.</summary>
    public StorageNames Names { get; }

    /// <summary>Member partitions.</summary>
    public ITableClient Members { get; }

    /// <summary>Phone and card index.</summary>
    public ITableClient MemberIndex { get; }

    /// <summary>Cross-partition idempotency records.</summary>
    public ITableClient Idempotency { get; }

    /// <summary>Org tree versions.</summary>
    public ITableClient Org { get; }

    /// <summary>Principals.</summary>
    public ITableClient Principals { get; }

    /// <summary>Audit trail.</summary>
    public ITableClient Audit { get; }

    /// <summary>Notifications.</summary>
    public ITableClient Notifications { get; }

    /// <summary>Configuration documents.</summary>
    public ITableClient Config { get; }

    /// <summary>Sale index.</summary>
    public ITableClient SaleIndex { get; }

    /// <summary>A queue by full name.</summary>
    public IQueueClient Queue(string name) => _queues(name);

    /// <summary>A table by full name.</summary>
    public ITableClient Table(string name) => _tables(name);

    /// <summary>Creates every table and the given queues (and their poison queues).</summary>
    public async Task EnsureCreatedAsync(IEnumerable<string> queues, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queues);
        var work = Names.AllTables.Select(t => _tables(t).CreateIfNotExistsAsync(cancellationToken))
            .Concat(queues.Distinct().SelectMany(q => new[] { q, StorageNames.Poison(q) }).Select(q => _queues(q).CreateIfNotExistsAsync(cancellationToken)));
        await Task.WhenAll(work);
    }
}
