using Loyalty.Functions.Ledger;

namespace Loyalty.Functions.Sales;

/// <summary>A basket line (amounts in fen).</summary>
internal sealed record SaleLineDto(string? Sku, string? Category, int Quantity, long UnitPrice);

/// <summary>Body of <c>POST /api/sales</c>: the member by id or card number.</summary>
internal sealed record SaleRequest(
    string? SaleId,
    string? StoreId,
    string? MemberId,
    string? CardNumber,
    IReadOnlyList<SaleLineDto>? Lines,
    long? PayWithStoredValue,
    long? PointsToRedeem,
    IReadOnlyList<string>? CouponCodes = null);

/// <summary>A receipt line.</summary>
internal sealed record ReceiptLine(int Line, string Sku, string Category, int Quantity, long UnitPrice, long Gross, long MemberDiscount, long CouponDiscount, long Net, bool EarnsPoints);

/// <summary>A coupon used by the sale and what it took off.</summary>
internal sealed record ReceiptCoupon(string Code, string TemplateId, string Name, long Discount);

/// <summary>Stored value paid, by part.</summary>
internal sealed record StoredValuePaid(long Principal, long Bonus, long Total);

/// <summary>The sale receipt.</summary>
internal sealed record SaleReceipt(
    string SaleId,
    string MemberId,
    string StoreId,
    IReadOnlyList<ReceiptLine> Lines,
    long Gross,
    long MemberDiscount,
    long CouponDiscount,
    IReadOnlyList<ReceiptCoupon> Coupons,
    long PointsRedeemed,
    long PointsOffset,
    StoredValuePaid StoredValuePaid,
    long AmountDue,
    long PointsEarned,
    int TierMultiplierPercent,
    int MemberDayMultiplierPercent,
    string Tier,
    string RuleVersion,
    BalancesDto Balances,
    string? UpgradedTo = null,
    UpgradeGift? UpgradeGift = null);

/// <summary>The answer of <c>POST /api/sales/quote</c>: the receipt the sale would produce (balances after it), and the tier it would reach.</summary>
internal sealed record SaleQuoteView(bool DryRun, SaleReceipt Receipt, string? WouldUpgradeTo);

/// <summary>The gift pack granted by the upgrade a sale caused.</summary>
internal sealed record UpgradeGift(string GiftPackId, long Points, IReadOnlyList<string> Coupons);

/// <summary>A returned line: the line index of the sale (0-based) and how many units.</summary>
internal sealed record RefundLineDto(int Line, int Quantity);

/// <summary>Body of <c>POST /api/sales/{saleId}/refunds</c>: lines, or an amount (fen), or neither for the rest of the sale.</summary>
internal sealed record RefundRequest(string? RefundId, IReadOnlyList<RefundLineDto>? Lines, long? Amount, string? StoreId);

/// <summary>The reversal receipt.</summary>
internal sealed record RefundReceipt(
    string SaleId,
    string RefundId,
    string MemberId,
    string StoreId,
    long Amount,
    long PointsClawedBack,
    long PointsRestored,
    StoredValuePaid StoredValueRestored,
    long CashRefund,
    long RemainingRefundable,
    IReadOnlyList<string> CouponsRestored,
    BalancesDto Balances)
{
    /// <summary>The tier the refund took the member down to (tier policy <c>reverseOnRefund</c>); absent when the tier stays.</summary>
    public string? DowngradedTo { get; init; }

    /// <summary>What the downgrade took back of the upgrade packs of the tiers left (tier policy <c>takeBackUnusedGift</c>).</summary>
    public UpgradeGiftTakenBack? UpgradeGiftTakenBack { get; init; }
}

/// <summary>The unused part of upgrade packs taken back by a refund: points and the codes of the coupons revoked.</summary>
internal sealed record UpgradeGiftTakenBack(long Points, IReadOnlyList<string> Coupons);
