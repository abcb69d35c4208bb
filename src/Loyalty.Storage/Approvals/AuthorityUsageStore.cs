using Azure;
using Azure.Data.Tables;
using Loyalty.Domain.Approvals;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;

namespace Loyalty.Storage.Approvals;

/// <summary>
/// Each operator's use today of authority-limited actions: one row per principal (<c>AuthorityUsage</c> table), its
/// usage JSON replaced with If-Match. The member's own usage lives on the account row and moves in the member's
/// transaction; the operator's is counted after the operation commits, so two requests of one operator that run at
/// the same moment may both be checked against the same earlier total.
/// </summary>
public sealed class AuthorityUsageStore(TableStore store)
{
    private const string Row = "usage";

    /// <summary>What <paramref name="principalId"/> has used on <paramref name="today"/>.</summary>
    public async Task<AuthorityUsage> GetAsync(string principalId, DateOnly today, CancellationToken cancellationToken = default)
    {
        var row = await store.Table(store.Names.AuthorityUsage).FindEntityAsync(principalId, Row, cancellationToken);
        return AuthorityUsage.Parse(row?.GetString("Usage"), today);
    }

    /// <summary>Adds <paramref name="amount"/> of <paramref name="action"/> to the principal's usage of <paramref name="today"/>.</summary>
    public async Task AddAsync(string principalId, ApprovalAction action, long amount, DateOnly today, CancellationToken cancellationToken = default)
    {
        var table = store.Table(store.Names.AuthorityUsage);
        for (var attempt = 1; ; attempt++)
        {
            var row = await table.FindEntityAsync(principalId, Row, cancellationToken);
            var next = new TableEntity(principalId, Row) { ["Usage"] = AuthorityUsage.Parse(row?.GetString("Usage"), today).Add(action, amount).ToJson() };
            try
            {
                if (row is null)
                {
                    await table.AddEntityAsync(next, cancellationToken);
                }
                else
                {
                    await table.UpdateEntityAsync(next, row.ETag, TableUpdateMode.Replace, cancellationToken);
                }

                return;
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412 && attempt < 10)
            {
                // Another request of the same operator counted first: read again.
            }
        }
    }
}
