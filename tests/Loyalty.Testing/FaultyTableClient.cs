using System.Collections.Concurrent;
using Azure;
using Loyalty.Storage.Tables;

namespace Loyalty.Testing;

/// <summary>The faults a <see cref="FaultyTableClient"/> can inject into a write.</summary>
public enum Fault
{
    /// <summary>No fault.</summary>
    None,
    /// <summary>503 before anything is sent: nothing written.</summary>
    UnavailableBeforeCommit,
    /// <summary>A stale-ETag 412 before anything is sent (as if another writer won).</summary>
    ConflictBeforeCommit,
    /// <summary>The write commits, then the response is lost (503).</summary>
    UnavailableAfterCommit,
    /// <summary>The write commits, then the client times out.</summary>
    TimeoutAfterCommit,
}

/// <summary>Decides which fault each write gets; thread-safe, deterministic per seed.</summary>
public sealed class FaultPlan
{
    private readonly Lock _gate = new();
    private Random _random = new(0);

    /// <summary>Whether faults are injected at all.</summary>
    public bool Enabled { get; set; }

    /// <summary>Chance that a write gets a fault.</summary>
    public double Rate { get; set; } = 0.25;

    /// <summary>Faults injected so far, by kind.</summary>
    public ConcurrentDictionary<Fault, int> Injected { get; } = new();

    private Fault? _forced;

    /// <summary>Gives the next write exactly this fault, whatever the plan says.</summary>
    public void ForceNext(Fault fault)
    {
        lock (_gate)
        {
            _forced = fault;
        }
    }

    /// <summary>Reseeds the plan.</summary>
    public void Reseed(int seed)
    {
        lock (_gate)
        {
            _random = new Random(seed);
        }
    }

    /// <summary>The fault for the next write.</summary>
    public Fault Next()
    {
        Fault fault;
        lock (_gate)
        {
            if (_forced is { } forced)
            {
                _forced = null;
                Injected.AddOrUpdate(forced, 1, (_, n) => n + 1);
                return forced;
            }

            if (!Enabled)
            {
                return Fault.None;
            }

            fault = _random.NextDouble() >= Rate ? Fault.None : (Fault)_random.Next(1, 5);
        }

        Injected.AddOrUpdate(fault, 1, (_, n) => n + 1);
        return fault;
    }
}

/// <summary>
/// Wraps a real table client: injects faults into writes as the plan says, and records any attempt to update or
/// delete a ledger row (rows whose key starts <c>ledger-</c> may only be inserted) and fails that call, so any test
/// whose code path tries it fails.
/// </summary>
public sealed class FaultyTableClient(ITableClient inner, FaultPlan plan) : ITableClient
{
    /// <summary>Attempts to change or delete ledger rows, with what was attempted.</summary>
    public static ConcurrentBag<string> LedgerViolations { get; } = [];

    /// <summary>When set, each transaction waits for it before it is sent (to hold commits until a test lets them go).</summary>
    public Task? CommitGate { get; set; }

    private int _transactions;
    private int _reads;

    /// <summary>Entity-group transactions submitted through this client (faulted ones included).</summary>
    public int Transactions => Volatile.Read(ref _transactions);

    /// <summary>Point reads answered through this client.</summary>
    public int Reads => Volatile.Read(ref _reads);

    /// <inheritdoc />
    public string Name => inner.Name;

    /// <inheritdoc />
    public Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default) => inner.CreateIfNotExistsAsync(cancellationToken);

    /// <inheritdoc />
    public async Task<TableEntity?> GetEntityAsync(string partitionKey, string rowKey, CancellationToken cancellationToken = default)
    {
        var row = await inner.GetEntityAsync(partitionKey, rowKey, cancellationToken);
        Interlocked.Increment(ref _reads);
        return row;
    }

    /// <inheritdoc />
    public Task<ETag> AddEntityAsync(TableEntity entity, CancellationToken cancellationToken = default) =>
        WriteAsync(() => inner.AddEntityAsync(entity, cancellationToken));

    /// <inheritdoc />
    public Task<ETag> UpdateEntityAsync(TableEntity entity, ETag ifMatch, TableUpdateMode mode = TableUpdateMode.Replace, CancellationToken cancellationToken = default)
    {
        Guard(entity.RowKey, "update");
        return WriteAsync(() => inner.UpdateEntityAsync(entity, ifMatch, mode, cancellationToken));
    }

    /// <inheritdoc />
    public Task<ETag> UpsertEntityAsync(TableEntity entity, TableUpdateMode mode = TableUpdateMode.Replace, CancellationToken cancellationToken = default)
    {
        Guard(entity.RowKey, "upsert");
        return WriteAsync(() => inner.UpsertEntityAsync(entity, mode, cancellationToken));
    }

    /// <inheritdoc />
    public Task DeleteEntityAsync(string partitionKey, string rowKey, ETag ifMatch, CancellationToken cancellationToken = default)
    {
        Guard(rowKey, "delete");
        return WriteAsync(async () =>
        {
            await inner.DeleteEntityAsync(partitionKey, rowKey, ifMatch, cancellationToken);
            return default(ETag);
        });
    }

    /// <inheritdoc />
    public Task<TablePage> QueryPageAsync(string? filter, int? maxPerPage = null, TableContinuation? continuation = null, IReadOnlyList<string>? columns = null, CancellationToken cancellationToken = default) =>
        inner.QueryPageAsync(filter, maxPerPage, continuation, columns, cancellationToken);

    /// <inheritdoc />
    public async Task<IReadOnlyList<ETag>> SubmitTransactionAsync(IReadOnlyList<TableTransactionAction> actions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(actions);
        foreach (var action in actions.Where(a => a.ActionType != TableTransactionActionType.Add))
        {
            Guard(action.Entity.RowKey, action.ActionType.ToString());
        }

        Interlocked.Increment(ref _transactions);
        if (CommitGate is { } gate)
        {
            await gate.WaitAsync(cancellationToken);
        }

        return await WriteAsync(() => inner.SubmitTransactionAsync(actions, cancellationToken));
    }

    private async Task<T> WriteAsync<T>(Func<Task<T>> write)
    {
        switch (plan.Next())
        {
            case Fault.UnavailableBeforeCommit:
                throw new RequestFailedException(503, "Injected: server busy before commit", "ServerBusy", null);
            case Fault.ConflictBeforeCommit:
                throw new TableTransactionFailedException(412, "Injected: stale ETag", "UpdateConditionNotSatisfied", 0);
            case Fault.UnavailableAfterCommit:
                await write();
                throw new RequestFailedException(503, "Injected: response lost after commit", "ServerBusy", null);
            case Fault.TimeoutAfterCommit:
                await write();
                throw new TimeoutException("Injected: timed out after commit");
            default:
                return await write();
        }
    }

    private static void Guard(string rowKey, string what)
    {
        if (rowKey.StartsWith("ledger-", StringComparison.Ordinal))
        {
            LedgerViolations.Add($"{what} {rowKey}");
            throw new InvalidOperationException($"Ledger rows are append-only: attempted to {what} {rowKey}.");
        }
    }
}
