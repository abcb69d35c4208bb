namespace Loyalty.Durable.Storage;

/// <summary>A row of an instance's partition: string values only (JSON where structured), with its ETag as read.</summary>
/// <param name="RowKey">Row key.</param>
/// <param name="Values">Column values.</param>
/// <param name="ETag">Concurrency token as read, or null for a new row.</param>
public sealed record DurableRow(string RowKey, IReadOnlyDictionary<string, string> Values, string? ETag = null);

/// <summary>
/// The table operations the storage backend needs, one partition per instance. Kept this small so that the runtime
/// depends on nothing of the app's: the app adapts its Table client to it.
/// </summary>
public interface IInstanceTable
{
    /// <summary>Point read; null when absent.</summary>
    Task<DurableRow?> GetAsync(string instanceId, string rowKey, CancellationToken cancellationToken);

    /// <summary>Rows of an instance whose key starts with a prefix, in key order.</summary>
    Task<IReadOnlyList<DurableRow>> QueryAsync(string instanceId, string rowKeyPrefix, CancellationToken cancellationToken);

    /// <summary>The row of one key in every partition (e.g. every header), with its partition key.</summary>
    Task<IReadOnlyList<(string InstanceId, DurableRow Row)>> QueryAllAsync(string rowKey, CancellationToken cancellationToken);

    /// <summary>
    /// One entity-group transaction (at most 100 rows): upserts, deletes, and optionally the header written with
    /// If-Match on its ETag (inserted when it has none). False when the header changed or exists (412/409).
    /// </summary>
    Task<bool> TransactAsync(string instanceId, IReadOnlyList<DurableRow> upserts, IReadOnlyList<string> deletes, DurableRow? header, CancellationToken cancellationToken);

    /// <summary>Deletes every row of an instance.</summary>
    Task DeletePartitionAsync(string instanceId, CancellationToken cancellationToken);
}

/// <summary>A received queue message.</summary>
/// <param name="Id">Message id.</param>
/// <param name="Receipt">Pop receipt.</param>
/// <param name="Body">Text.</param>
public sealed record ReceivedMessage(string Id, string Receipt, string Body);

/// <summary>The queue operations the storage backend needs.</summary>
public interface IMessageChannel
{
    /// <summary>Sends text, hidden for <paramref name="delay"/>.</summary>
    Task SendAsync(string body, TimeSpan delay, CancellationToken cancellationToken);

    /// <summary>Receives up to <paramref name="max"/> messages.</summary>
    Task<IReadOnlyList<ReceivedMessage>> ReceiveAsync(int max, TimeSpan visibility, CancellationToken cancellationToken);

    /// <summary>Deletes a received message.</summary>
    Task DeleteAsync(ReceivedMessage message, CancellationToken cancellationToken);
}
