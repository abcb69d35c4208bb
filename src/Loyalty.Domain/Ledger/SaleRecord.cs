namespace Loyalty.Domain.Ledger;

/// <summary>A line of a recorded sale and how much of it has been returned.</summary>
public sealed record RecordedLine(string Sku, string Category, int Quantity, long Net, int RefundedQuantity);

/// <summary>
/// What a sale took and gave, kept in the member's partition so refunds can reverse it exactly, plus the running
/// totals of what refunds have already reversed, and the coupons the sale consumed.
/// </summary>
public sealed record SaleRecord(
    string SaleId,
    string MemberId,
    string StoreId,
    IReadOnlyList<RecordedLine> Lines,
    long Net,
    long PointsRedeemed,
    long PointsOffset,
    long StoredValuePrincipal,
    long StoredValueBonus,
    long PointsEarned,
    long RefundedNet,
    long PointsClawedBack,
    long PointsRestored,
    long OffsetRestored,
    long PrincipalRestored,
    long BonusRestored,
    int RefundCount,
    IReadOnlyList<string>? Coupons = null)
{
    /// <summary>What is left to refund.</summary>
    public long Refundable => Net - RefundedNet;

    /// <summary>A new record for a priced sale.</summary>
    public static SaleRecord From(string saleId, string memberId, string storeId, SaleQuote quote)
    {
        ArgumentNullException.ThrowIfNull(quote);
        return new(
            saleId, memberId, storeId,
            [.. quote.Lines.Select(l => new RecordedLine(l.Sku, l.Category, l.Quantity, l.Net, 0))],
            quote.Net, quote.PointsRedeemed, quote.PointsOffset, quote.StoredValuePrincipal, quote.StoredValueBonus, quote.PointsEarned,
            0, 0, 0, 0, 0, 0, 0,
            quote.Coupons.Count == 0 ? null : [.. quote.Coupons.Select(c => c.Code)]);
    }
}
