using Azure;
using Azure.Data.Tables;

namespace Loyalty.Storage.Tables;

/// <summary>The few conveniences the app adds to <see cref="TableClient"/>.</summary>
public static class TableClientExtensions
{
    /// <summary>Point read; null when the row does not exist (a 404 is an answer here, not an error).</summary>
    public static async Task<TableEntity?> FindEntityAsync(this TableClient table, string partitionKey, string rowKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(table);
        var response = await table.GetEntityIfExistsAsync<TableEntity>(partitionKey, rowKey, cancellationToken: cancellationToken);
        return response.HasValue ? response.Value : null;
    }

    /// <summary>One page of a query, starting at <paramref name="continuation"/>.</summary>
    public static async Task<TablePage> QueryPageAsync(
        this TableClient table,
        string? filter,
        int? maxPerPage = null,
        TableContinuation? continuation = null,
        IEnumerable<string>? select = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(table);
        await foreach (var page in table.QueryAsync<TableEntity>(filter, maxPerPage, select, cancellationToken).AsPages(continuation?.Token, maxPerPage))
        {
            return new TablePage(page.Values, TableContinuation.From(page.ContinuationToken));
        }

        return new TablePage([], null);
    }

    /// <summary>
    /// Deletes rows of one partition by key, whatever their ETag, in entity-group transactions of up to 100. A row
    /// already gone fails its transaction with 404, as the service answers.
    /// </summary>
    public static async Task DeleteRowsAsync(this TableClient table, string partitionKey, IEnumerable<string> rowKeys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(rowKeys);
        foreach (var chunk in rowKeys.Chunk(100))
        {
            await table.SubmitTransactionAsync([.. chunk.Select(k => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(partitionKey, k), ETag.All))], cancellationToken);
        }
    }

    /// <summary>A string property that must exist (a missing one means the row was written by a bug).</summary>
    public static string Require(this TableEntity entity, string name)
    {
        ArgumentNullException.ThrowIfNull(entity);
        return entity.GetString(name) ?? throw new InvalidDataException($"Row {entity.PartitionKey}/{entity.RowKey} lacks '{name}'.");
    }

    /// <summary>The row's own properties: everything but the keys, the timestamp and the ETag the SDK keeps beside them.</summary>
    public static IEnumerable<KeyValuePair<string, object>> Values(this TableEntity entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        return entity.Where(p => p.Key is not ("PartitionKey" or "RowKey" or "Timestamp" or "odata.etag"));
    }
}
