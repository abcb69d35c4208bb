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
}
