using Loyalty.Domain.Common;

namespace Loyalty.Domain.Ledger;

/// <summary>A returned line: its index in the sale and how many units.</summary>
public sealed record RefundLine(int Line, int Quantity);

/// <summary>What one refund gives back and takes back.</summary>
/// <param name="Amount">Net sale value refunded (fen).</param>
/// <param name="PointsClawedBack">Earned points taken back.</param>
/// <param name="PointsRestored">Redeemed (offset) points given back.</param>
/// <param name="OffsetRestored">Value of the points given back (fen).</param>
/// <param name="PrincipalRestored">Stored-value principal given back.</param>
/// <param name="BonusRestored">Stored-value bonus given back.</param>
/// <param name="CashRefund">What the store pays back in other tender.</param>
/// <param name="Sale">The sale record after this refund.</param>
public sealed record RefundOutcome(
    long Amount,
    long PointsClawedBack,
    long PointsRestored,
    long OffsetRestored,
    long PrincipalRestored,
    long BonusRestored,
    long CashRefund,
    SaleRecord Sale)
{
    /// <summary>The refund's effect on the balances; only the claw-back may overdraw points.</summary>
    public LedgerChange Change => new(PointsRestored - PointsClawedBack, PrincipalRestored, BonusRestored, MayOverdrawPoints: true, PointsSpent: PointsClawedBack);
}

/// <summary>
/// Refunds in full, by lines or by amount. Everything is reversed in proportion to the share of the sale's net
/// value refunded so far, computed on running totals, so several partial refunds add up exactly to a full one and
/// never beyond it.
/// </summary>
public static class RefundCalculator
{
    /// <summary>Computes a refund of <paramref name="sale"/>: by <paramref name="lines"/>, by <paramref name="amount"/>, or (neither) the rest.</summary>
    public static Result<RefundOutcome> Refund(SaleRecord sale, IReadOnlyList<RefundLine>? lines, long? amount)
    {
        ArgumentNullException.ThrowIfNull(sale);
        if (lines is { Count: > 0 } && amount is not null)
        {
            return DomainError.Invalid("refund_invalid", "amount", "Refund either lines or an amount, not both.");
        }

        if (sale.Refundable <= 0)
        {
            return new DomainError("refund_exceeds_sale", "This sale has been refunded in full.", ErrorKind.Unprocessable);
        }

        var recorded = sale.Lines.ToList();
        long value;
        if (lines is { Count: > 0 })
        {
            value = 0;
            foreach (var group in lines.GroupBy(l => l.Line))
            {
                if (group.Key < 0 || group.Key >= recorded.Count || group.Any(l => l.Quantity < 1))
                {
                    return DomainError.Invalid("refund_invalid", "lines", "Each refunded line names a line index of the sale and a quantity of at least 1.");
                }

                var line = recorded[group.Key];
                var quantity = group.Sum(l => l.Quantity);
                if (line.RefundedQuantity + quantity > line.Quantity)
                {
                    return new DomainError("refund_exceeds_sale", $"Line {group.Key} has only {line.Quantity - line.RefundedQuantity} units left to refund.", ErrorKind.Unprocessable, "lines");
                }

                var before = line.Net * line.RefundedQuantity / line.Quantity;
                var after = line.Net * (line.RefundedQuantity + quantity) / line.Quantity;
                value += after - before;
                recorded[group.Key] = line with { RefundedQuantity = line.RefundedQuantity + quantity };
            }

            value = Math.Min(value, sale.Refundable);
        }
        else if (amount is { } a)
        {
            if (a < 1 || a > sale.Refundable)
            {
                return new DomainError("refund_exceeds_sale", $"Between 1 and {sale.Refundable} fen can still be refunded.", ErrorKind.Unprocessable, "amount");
            }

            value = a;
        }
        else
        {
            value = sale.Refundable;
            recorded = [.. recorded.Select(l => l with { RefundedQuantity = l.Quantity })];
        }

        var refunded = sale.RefundedNet + value;
        long Share(long total) => sale.Net == 0 ? 0 : total * refunded / sale.Net;
        var clawed = Share(sale.PointsEarned) - sale.PointsClawedBack;
        var restored = Share(sale.PointsRedeemed) - sale.PointsRestored;
        var offset = Share(sale.PointsOffset) - sale.OffsetRestored;
        var principal = Share(sale.StoredValuePrincipal) - sale.PrincipalRestored;
        var bonus = Share(sale.StoredValueBonus) - sale.BonusRestored;
        var next = sale with
        {
            Lines = recorded,
            RefundedNet = refunded,
            PointsClawedBack = sale.PointsClawedBack + clawed,
            PointsRestored = sale.PointsRestored + restored,
            OffsetRestored = sale.OffsetRestored + offset,
            PrincipalRestored = sale.PrincipalRestored + principal,
            BonusRestored = sale.BonusRestored + bonus,
            RefundCount = sale.RefundCount + 1,
        };
        return new RefundOutcome(value, clawed, restored, offset, principal, bonus, value - offset - principal - bonus, next);
    }
}
