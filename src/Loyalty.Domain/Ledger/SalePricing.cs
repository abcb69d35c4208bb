using Loyalty.Domain.Common;
using Loyalty.Domain.Programme;

namespace Loyalty.Domain.Ledger;

/// <summary>A line as the till sends it.</summary>
public sealed record SaleLine(string Sku, string Category, int Quantity, long UnitPrice);

/// <summary>A priced line: gross, member discount, net, and whether it earns points.</summary>
public sealed record PricedLine(string Sku, string Category, int Quantity, long UnitPrice, long Gross, long Discount, long Net, bool EarnsPoints);

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
    int MemberDayMultiplierPercent)
{
    /// <summary>Stored value paid in total.</summary>
    public long StoredValuePaid => StoredValuePrincipal + StoredValueBonus;

    /// <summary>The sale's effect on the balances.</summary>
    public LedgerChange Change => new(PointsEarned - PointsRedeemed, -StoredValuePrincipal, -StoredValueBonus);
}

/// <summary>
/// Prices a sale: tier discount per line, points offset, stored-value payment, and points earned. All amounts are
/// integers in fen and every division rounds down, so the same basket always prices the same way.
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
        Balances balances)
    {
        ArgumentNullException.ThrowIfNull(lines);
        ArgumentNullException.ThrowIfNull(tier);
        ArgumentNullException.ThrowIfNull(rules);
        if (lines.Count is 0 or > MaxLines)
        {
            return DomainError.Invalid("lines_invalid", "lines", $"A sale has 1-{MaxLines} lines.");
        }

        var priced = new List<PricedLine>(lines.Count);
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

            var gross = line.Quantity * line.UnitPrice;
            var net = gross * tier.PricePercent / 10_000;
            var earns = !rules.Earning.ExcludedCategories.Contains(line.Category, StringComparer.OrdinalIgnoreCase);
            priced.Add(new PricedLine(line.Sku, line.Category, line.Quantity, line.UnitPrice, gross, gross - net, net, earns));
        }

        var totalGross = priced.Sum(l => l.Gross);
        var totalNet = priced.Sum(l => l.Net);

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

        // Points are earned on what the member pays for eligible goods; the part paid with points earns nothing.
        var eligibleNet = priced.Where(l => l.EarnsPoints).Sum(l => l.Net);
        var earningBase = totalNet == 0 ? 0 : eligibleNet - (offset * eligibleNet / totalNet);
        var earned = earningBase * rules.Earning.PointsPerYuan * tier.PointsMultiplierPercent * memberDayMultiplierPercent / (100L * 100 * 100);

        return new SaleQuote(
            priced,
            totalGross,
            totalGross - totalNet,
            totalNet,
            pointsToRedeem,
            offset,
            fromPrincipal,
            fromBonus,
            totalNet - offset - storedValueToPay,
            earned,
            tier.PointsMultiplierPercent,
            memberDayMultiplierPercent);
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
