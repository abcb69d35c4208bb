using System.Runtime.CompilerServices;

namespace Loyalty.Storage.Tables;

/// <summary>Conveniences over <see cref="ITableClient"/>.</summary>
public static class TableClientExtensions
{
    /// <summary>All rows matching <paramref name="filter"/>, following continuations.</summary>
    public static async IAsyncEnumerable<TableEntity> QueryAsync(
        this ITableClient table,
        string? filter,
        int? maxPerPage = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(table);
        TableContinuation? continuation = null;
        do
        {
            var page = await table.QueryPageAsync(filter, maxPerPage, continuation, null, cancellationToken);
            foreach (var item in page.Items)
            {
                yield return item;
            }

            continuation = page.Continuation;
        }
        while (continuation is not null);
    }

    /// <summary>
    /// Deletes rows of one partition by key, whatever their ETag, in entity-group transactions of up to 100. A row
    /// already gone fails its transaction with 404, as the service answers.
    /// </summary>
    public static async Task DeleteRowsAsync(this ITableClient table, string partitionKey, IEnumerable<string> rowKeys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(rowKeys);
        foreach (var chunk in rowKeys.Chunk(100))
        {
            await table.SubmitTransactionAsync([.. chunk.Select(k => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(partitionKey, k), global::Azure.ETag.All))], cancellationToken);
        }
    }
}
