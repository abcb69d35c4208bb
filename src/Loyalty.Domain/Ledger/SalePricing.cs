using Loyalty.Domain.Common;
using Loyalty.Domain.Coupons;
using Loyalty.Domain.Programme;

namespace Loyalty.Domain.Ledger;

/// <summary>A line as the till sends it.</summary>
public sealed record SaleLine(string Sku, string Category, int Quantity, long UnitPrice);

/// <summary>A priced line: gross, member discount, coupon discount, net, and whether it earns points.</summary>
public sealed record PricedLine(string Sku, string Category, int Quantity, long UnitPrice, long Gross, long Discount, long CouponDiscount, long Net, bool EarnsPoints);

/// <summary>A coupon presented at checkout (already checked for owner, state, validity and store).</summary>
public sealed record CouponUse(string Code, CouponTerms Terms);

/// <summary>What one coupon took off the sale.</summary>
public sealed record CouponDiscount(string Code, long Discount);

/// <summary>The outcome of pricing a basket for a member.</summary>
public sealed record SaleQuote(
    IReadOnlyList<PricedLine> Lines,
    long Gross,
    long MemberDiscount,
    long Net,
    long PointsRedeemed,
    long PointsOffset,
    long StoredValuePrincipal,
    long StoredValueBonus,
    long AmountDue,
    long PointsEarned,
    int TierMultiplierPercent,
    int MemberDayMultiplierPercent,
    IReadOnlyList<CouponDiscount> Coupons)
{
    /// <summary>Total taken off by coupons.</summary>
    public long CouponDiscount => Coupons.Sum(c => c.Discount);

    /// <summary>Stored value paid in total.</summary>
    public long StoredValuePaid => StoredValuePrincipal + StoredValueBonus;

    /// <summary>The sale's effect on the balances.</summary>
    public LedgerChange Change => new(PointsEarned - PointsRedeemed, -StoredValuePrincipal, -StoredValueBonus, PointsSpent: PointsRedeemed);
}

/// <summary>
/// Prices a sale: tier discount per line, coupons, points offset, stored-value payment, and points earned. All
/// amounts are integers in fen and every division rounds down, so the same basket always prices the same way.
/// A coupon that does not stack with the member discount removes the tier discount from the lines it covers; each
/// coupon's discount is spread over the lines it covers in proportion to their value, so line refunds give back
/// what was actually paid.
/// </summary>
public static class SalePricing
{
    /// <summary>Most lines in one sale.</summary>
    public const int MaxLines = 100;

    /// <summary>Prices <paramref name="lines"/> for a member in <paramref name="tier"/>.</summary>
    public static Result<SaleQuote> Price(
        IReadOnlyList<SaleLine> lines,
        TierRule tier,
        ProgrammeRules rules,
        int memberDayMultiplierPercent,
        long pointsToRedeem,
        long storedValueToPay,
        Balances balances,
        IReadOnlyList<CouponUse>? coupons = null)
    {
        ArgumentNullException.ThrowIfNull(lines);
        ArgumentNullException.ThrowIfNull(tier);
        ArgumentNullException.ThrowIfNull(rules);
        if (lines.Count is 0 or > MaxLines)
        {
            return DomainError.Invalid("lines_invalid", "lines", $"A sale has 1-{MaxLines} lines.");
        }

        coupons ??= [];
        foreach (var line in lines)
        {
            if (string.IsNullOrWhiteSpace(line.Sku) || line.Sku.Length > 64 || string.IsNullOrWhiteSpace(line.Category) || line.Category.Length > 64)
            {
                return DomainError.Invalid("lines_invalid", "lines", "Each line needs a sku and a category (up to 64 characters).");
            }

            if (line.Quantity is < 1 or > 9_999 || line.UnitPrice is < 0 or > 100_000_000)
            {
                return DomainError.Invalid("lines_invalid", "lines", "Quantity is 1-9999 and unitPrice 0-100000000 fen.");
            }
        }

        var gross = lines.Select(l => l.Quantity * l.UnitPrice).ToArray();
        var net = new long[lines.Count];
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            var undiscounted = coupons.Any(c => !c.Terms.StacksWithMemberDiscount && c.Terms.Covers(line.Sku, line.Category));
            net[i] = undiscounted ? gross[i] : gross[i] * tier.PricePercent / 10_000;
        }

        var memberNet = (long[])net.Clone();
        var couponDiscounts = new List<CouponDiscount>(coupons.Count);
        foreach (var coupon in coupons)
        {
            var applied = ApplyCoupon(coupon, lines, net);
            if (!applied.IsSuccess)
            {
                return applied.Error;
            }

            couponDiscounts.Add(new CouponDiscount(coupon.Code, applied.Value));
        }

        var priced = new List<PricedLine>(lines.Count);
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            var earns = rules.Earning.Earns(line.Sku, line.Category);
            priced.Add(new PricedLine(line.Sku, line.Category, line.Quantity, line.UnitPrice, gross[i], gross[i] - memberNet[i], memberNet[i] - net[i], net[i], earns));
        }

        var totalGross = priced.Sum(l => l.Gross);
        var totalNet = priced.Sum(l => l.Net);
        var totalCoupon = couponDiscounts.Sum(c => c.Discount);

        if (pointsToRedeem < 0)
        {
            return DomainError.Invalid("points_offset_invalid", "pointsToRedeem", "pointsToRedeem cannot be negative.");
        }

        if (pointsToRedeem * 100 % rules.Earning.OffsetPointsPerYuan != 0)
        {
            return DomainError.Invalid("points_offset_invalid", "pointsToRedeem", $"Points offset the price in steps: {rules.Earning.OffsetPointsPerYuan} points = 1 yuan.");
        }

        var offset = pointsToRedeem * 100 / rules.Earning.OffsetPointsPerYuan;
        if (offset > totalNet * rules.Earning.MaxOffsetPercent / 100)
        {
            return DomainError.Invalid("points_offset_too_large", "pointsToRedeem", $"Points may pay at most {rules.Earning.MaxOffsetPercent}% of this sale.");
        }

        if (pointsToRedeem > 0 && pointsToRedeem > balances.Points)
        {
            return new DomainError("insufficient_points", "Not enough points to offset.", ErrorKind.Unprocessable, "pointsToRedeem");
        }

        if (storedValueToPay < 0 || storedValueToPay > totalNet - offset)
        {
            return DomainError.Invalid("stored_value_exceeds_due", "payWithStoredValue", "Stored value pays between 0 and the amount due.");
        }

        if (storedValueToPay > balances.StoredValue)
        {
            return new DomainError("insufficient_stored_value", "Not enough stored value.", ErrorKind.Unprocessable, "payWithStoredValue");
        }

        var (fromPrincipal, fromBonus) = Split(storedValueToPay, balances, rules.StoredValue.SpendOrder);

        var earned = PointsEarned(priced, rules.Earning, totalNet, offset, tier.PointsMultiplierPercent, memberDayMultiplierPercent);

        return new SaleQuote(
            priced,
            totalGross,
            totalGross - totalNet - totalCoupon,
            totalNet,
            pointsToRedeem,
            offset,
            fromPrincipal,
            fromBonus,
            totalNet - offset - storedValueToPay,
            earned,
            tier.PointsMultiplierPercent,
            memberDayMultiplierPercent,
            couponDiscounts);
    }

    /// <summary>Takes one coupon off <paramref name="net"/> (updated in place); returns its discount.</summary>
    private static Result<long> ApplyCoupon(CouponUse coupon, IReadOnlyList<SaleLine> lines, long[] net)
    {
        var terms = coupon.Terms;
        var covered = Enumerable.Range(0, lines.Count).Where(i => net[i] > 0 && terms.Covers(lines[i].Sku, lines[i].Category)).ToList();
        if (terms.Kind == CouponKind.FreeItem)
        {
            covered = [.. covered.Take(1)];
        }

        if (covered.Count == 0)
        {
            return new DomainError("coupon_not_applicable", $"Coupon {coupon.Code} applies to nothing in this basket.", ErrorKind.Unprocessable, "couponCodes");
        }

        var subtotal = covered.Sum(i => net[i]);
        var spend = terms.Kind == CouponKind.FreeItem ? net.Sum() : subtotal;
        if (spend < terms.MinSpend)
        {
            return new DomainError("coupon_min_spend_not_met", $"Coupon {coupon.Code} needs a spend of {terms.MinSpend} fen on eligible goods; this basket has {spend}.", ErrorKind.Unprocessable, "couponCodes");
        }

        var discount = terms.Kind switch
        {
            CouponKind.AmountOff => Math.Min(terms.AmountOff ?? 0, subtotal),
            CouponKind.PercentOff => Math.Min(subtotal * (terms.PercentOff ?? 0) / 100, terms.MaxDiscount ?? long.MaxValue),
            _ => net[covered[0]] / lines[covered[0]].Quantity,
        };
        if (discount <= 0)
        {
            return new DomainError("coupon_not_applicable", $"Coupon {coupon.Code} takes nothing off this basket.", ErrorKind.Unprocessable, "couponCodes");
        }

        // Spread in proportion to each covered line's value; the rounding remainder goes one fen at a time in line order.
        var shares = covered.Select(i => discount * net[i] / subtotal).ToArray();
        var left = discount - shares.Sum();
        for (var k = 0; left > 0; k = (k + 1) % shares.Length)
        {
            if (shares[k] < net[covered[k]])
            {
                shares[k]++;
                left--;
            }
        }

        for (var k = 0; k < covered.Count; k++)
        {
            net[covered[k]] -= shares[k];
        }

        return discount;
    }

    /// <summary>
    /// Points earned: on what the member pays for eligible lines (the part paid with points earns nothing), each line
    /// weighted by its SKU or category multiplier, times the base rate, the tier and the member day; nothing below the
    /// minimum order, never more than the cap. One division at the end, rounding down, in 128-bit arithmetic.
    /// </summary>
    public static long PointsEarned(IReadOnlyList<PricedLine> lines, EarningRules earning, long totalNet, long offset, int tierPercent, int memberDayPercent)
    {
        ArgumentNullException.ThrowIfNull(lines);
        ArgumentNullException.ThrowIfNull(earning);
        var eligible = lines.Where(l => l.EarnsPoints).ToList();
        if (totalNet <= 0 || eligible.Sum(l => l.Net) < Math.Max(1, earning.MinimumOrder))
        {
            return 0;
        }

        Int128 weighted = eligible.Aggregate(Int128.Zero, (sum, l) => sum + ((Int128)l.Net * earning.MultiplierFor(l.Sku, l.Category)));
        var afterOffset = weighted - (weighted * offset / totalNet);
        var points = (long)(afterOffset * earning.PointsPerYuan * tierPercent * memberDayPercent / ((Int128)100 * 100 * 100 * 100));
        return earning.CapPerTransaction is { } cap ? Math.Min(points, cap) : points;
    }

    /// <summary>Splits a stored-value payment between bonus and principal in the configured order.</summary>
    public static (long Principal, long Bonus) Split(long amount, Balances balances, SpendOrder order)
    {
        if (order == SpendOrder.BonusFirst)
        {
            var bonus = Math.Min(amount, balances.Bonus);
            return (amount - bonus, bonus);
        }

        var principal = Math.Min(amount, balances.Principal);
        return (principal, amount - principal);
    }
}
