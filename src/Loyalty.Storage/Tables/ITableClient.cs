using Azure;

namespace Loyalty.Storage.Tables;

/// <summary>
/// The table operations the app uses. Small on purpose, so Azure.Data.Tables can stand behind it when the package
/// feed has it, and so tests can wrap it to inject faults. Failures surface as <see cref="RequestFailedException"/>
/// (412 stale ETag, 409 exists, 404 missing).
/// </summary>
public interface ITableClient
{
    /// <summary>Table name.</summary>
    string Name { get; }

    /// <summary>Creates the table unless it exists.</summary>
    Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default);

    /// <summary>Point read; null when the row does not exist.</summary>
    Task<TableEntity?> GetEntityAsync(string partitionKey, string rowKey, CancellationToken cancellationToken = default);

    /// <summary>Inserts; 409 when the row exists. Returns the new ETag.</summary>
    Task<ETag> AddEntityAsync(TableEntity entity, CancellationToken cancellationToken = default);

    /// <summary>Updates with If-Match (<see cref="ETag.All"/> for unconditional); 412 on a stale ETag.</summary>
    Task<ETag> UpdateEntityAsync(TableEntity entity, ETag ifMatch, TableUpdateMode mode = TableUpdateMode.Replace, CancellationToken cancellationToken = default);

    /// <summary>Insert or update without condition.</summary>
    Task<ETag> UpsertEntityAsync(TableEntity entity, TableUpdateMode mode = TableUpdateMode.Replace, CancellationToken cancellationToken = default);

    /// <summary>Deletes with If-Match; a missing row is not an error.</summary>
    Task DeleteEntityAsync(string partitionKey, string rowKey, ETag ifMatch, CancellationToken cancellationToken = default);

    /// <summary>One page of a query.</summary>
    Task<TablePage> QueryPageAsync(string? filter, int? maxPerPage = null, TableContinuation? continuation = null, IReadOnlyList<string>? columns = null, CancellationToken cancellationToken = default);

    /// <summary>Runs an entity-group transaction (1-100 operations, one partition): all or nothing.</summary>
    /// <returns>The new ETag of each operation, in order (default for deletes).</returns>
    Task<IReadOnlyList<ETag>> SubmitTransactionAsync(IReadOnlyList<TableTransactionAction> actions, CancellationToken cancellationToken = default);
}
