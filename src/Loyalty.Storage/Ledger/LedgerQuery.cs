using Azure.Data.Tables;
using System.Runtime.CompilerServices;
using System.Text;
using Loyalty.Domain.Ledger;
using Loyalty.Storage.Members;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;

namespace Loyalty.Storage.Ledger;

/// <summary>A ledger entry with the balances after it.</summary>
public sealed record LedgerLine(LedgerEntry Entry, Balances After);

/// <summary>A page of a member's ledger, newest first, and the token of the next page.</summary>
public sealed record LedgerPage(IReadOnlyList<LedgerLine> Items, string? ContinuationToken);

/// <summary>Filters for reading a ledger.</summary>
/// <param name="Type">Only entries of this kind.</param>
/// <param name="From">Only entries at or after this instant.</param>
/// <param name="To">Only entries before this instant.</param>
public sealed record LedgerFilter(LedgerEntryType? Type, DateTimeOffset? From, DateTimeOffset? To);

/// <summary>Reads ledgers: pages for screens, streams for exports, and the raw rows for reconciliation.</summary>
public sealed class LedgerQuery(TableStore store)
{
    /// <summary>One page of up to <paramref name="pageSize"/> entries.</summary>
    public async Task<LedgerPage> PageAsync(string memberId, LedgerFilter filter, int pageSize, string? continuationToken, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var items = new List<LedgerLine>(pageSize);
        var continuation = string.IsNullOrEmpty(continuationToken) ? null : TableContinuation.Decode(continuationToken) ?? throw new FormatException("Bad continuation token.");
        var query = Filter(memberId, filter);

        // Filters on non-key properties may yield short or empty pages with a continuation: keep reading.
        do
        {
            var page = await store.Members.QueryPageAsync(query, pageSize - items.Count, continuation, cancellationToken: cancellationToken);
            items.AddRange(page.Items.Select(r => new LedgerLine(LedgerRows.FromRow(r), LedgerRows.AfterOf(r))));
            continuation = page.Continuation;
        }
        while (items.Count < pageSize && continuation is not null);

        return new LedgerPage(items, continuation?.Encode());
    }

    /// <summary>Every matching entry, newest first.</summary>
    public async IAsyncEnumerable<LedgerLine> StreamAsync(string memberId, LedgerFilter filter, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        await foreach (var row in store.Members.QueryAsync<TableEntity>(Filter(memberId, filter), cancellationToken: cancellationToken))
        {
            yield return new LedgerLine(LedgerRows.FromRow(row), LedgerRows.AfterOf(row));
        }
    }

    private static string Filter(string memberId, LedgerFilter filter)
    {
        var sb = new StringBuilder(TableFilter.PartitionRowPrefix(memberId, MemberRows.LedgerPrefix));
        if (filter.Type is { } type)
        {
            sb.Append(" and Type eq ").Append(TableFilter.Quote(type.ToString()));
        }

        if (filter.From is { } from)
        {
            sb.Append(" and At ge datetime'").Append(from.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", System.Globalization.CultureInfo.InvariantCulture)).Append('\'');
        }

        if (filter.To is { } to)
        {
            sb.Append(" and At lt datetime'").Append(to.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", System.Globalization.CultureInfo.InvariantCulture)).Append('\'');
        }

        return sb.ToString();
    }
}
