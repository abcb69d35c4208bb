using Azure.Data.Tables;
using Azure;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;

namespace Loyalty.Storage.Ledger;

/// <summary>Sale id -> member id, claimed before the sale is written so that a refund can find its sale.</summary>
public sealed class SaleIndex(TableStore store)
{
    private const string Row = "s";

    /// <summary>Claims <paramref name="saleId"/> for <paramref name="memberId"/>; returns the member that owns it afterwards.</summary>
    public async Task<string> ClaimAsync(string saleId, string memberId, CancellationToken cancellationToken = default)
    {
        try
        {
            await store.SaleIndex.AddEntityAsync(new TableEntity(saleId, Row) { ["MemberId"] = memberId }, cancellationToken);
            return memberId;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            var existing = await store.SaleIndex.FindEntityAsync(saleId, Row, cancellationToken);
            return existing?.Require("MemberId") ?? memberId;
        }
    }

    /// <summary>The member a sale id belongs to, if claimed.</summary>
    public async Task<string?> FindAsync(string saleId, CancellationToken cancellationToken = default) =>
        (await store.SaleIndex.FindEntityAsync(saleId, Row, cancellationToken))?.GetString("MemberId");
}
