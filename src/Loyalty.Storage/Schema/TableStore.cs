using System.Collections.Concurrent;
using Azure.Data.Tables;
using Azure.Storage.Queues;

namespace Loyalty.Storage.Schema;

/// <summary>Clients for the app's tables and queues, resolved once and shared.</summary>
public sealed class TableStore
{
    private readonly ConcurrentDictionary<string, TableClient> _tableClients = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, QueueClient> _queueClients = new(StringComparer.Ordinal);
    private readonly Func<string, TableClient> _newTable;
    private readonly Func<string, QueueClient> _newQueue;

    /// <summary>Creates the store over the service clients.</summary>
    public TableStore(StorageNames names, TableServiceClient tables, QueueServiceClient queues)
        : this(names, (tables ?? throw new ArgumentNullException(nameof(tables))).GetTableClient, (queues ?? throw new ArgumentNullException(nameof(queues))).GetQueueClient)
    {
    }

    /// <summary>Creates the store over client factories (tests pass ones whose pipelines inject faults).</summary>
    public TableStore(StorageNames names, Func<string, TableClient> tables, Func<string, QueueClient> queues)
    {
        Names = names ?? throw new ArgumentNullException(nameof(names));
        ArgumentNullException.ThrowIfNull(tables);
        ArgumentNullException.ThrowIfNull(queues);

        // One client per table and queue, made once: the SDK's clients are thread-safe and meant to be kept.
        _newTable = tables;
        _newQueue = queues;
        tables = Table;
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
    public TableClient Reports { get; }

    /// <summary>Approval requests.</summary>
    public TableClient Approvals { get; }

    /// <summary>Campaign work lists.</summary>
    public TableClient Campaigns { get; }

    /// <summary>Members by tag.</summary>
    public TableClient Segments { get; }

    /// <summary>Work lists of the scheduled jobs (points expiry, tier evaluation).</summary>
    public TableClient Schedules { get; }

    /// <summary>Coupon counters and schedule.</summary>
    public TableClient Coupons { get; }

    /// <summary>Webhook secrets.</summary>
    public TableClient ShopSecrets { get; }

    /// <summary>Order event outcomes.</summary>
    public TableClient OrderEvents { get; }

    /// <summary>Names in use.</summary>
    public StorageNames Names { get; }

    /// <summary>Member partitions.</summary>
    public TableClient Members { get; }

    /// <summary>Phone and card index.</summary>
    public TableClient MemberIndex { get; }

    /// <summary>Cross-partition idempotency records.</summary>
    public TableClient Idempotency { get; }

    /// <summary>Org tree versions.</summary>
    public TableClient Org { get; }

    /// <summary>Principals.</summary>
    public TableClient Principals { get; }

    /// <summary>Audit trail.</summary>
    public TableClient Audit { get; }

    /// <summary>Notifications.</summary>
    public TableClient Notifications { get; }

    /// <summary>Configuration documents.</summary>
    public TableClient Config { get; }

    /// <summary>Sale index.</summary>
    public TableClient SaleIndex { get; }

    /// <summary>A queue by full name.</summary>
    public QueueClient Queue(string name) => _queueClients.GetOrAdd(name, _newQueue);

    /// <summary>A table by full name.</summary>
    public TableClient Table(string name) => _tableClients.GetOrAdd(name, _newTable);

    /// <summary>Creates every table and the given queues (and their poison queues).</summary>
    public async Task EnsureCreatedAsync(IEnumerable<string> queues, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queues);
        var work = Names.AllTables.Select(t => (Task)Table(t).CreateIfNotExistsAsync(cancellationToken))
            .Concat(queues.Distinct().SelectMany(q => new[] { q, StorageNames.Poison(q) }).Select(q => (Task)Queue(q).CreateIfNotExistsAsync(cancellationToken: cancellationToken)));
        await Task.WhenAll(work);
    }
}
