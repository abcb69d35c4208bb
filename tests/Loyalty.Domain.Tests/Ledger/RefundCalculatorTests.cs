using Loyalty.Domain.Ledger;
using Xunit;

namespace Loyalty.Domain.Tests.Ledger;

public sealed class RefundCalculatorTests
{
    // Net 10,001 fen: 3 x 3,000 + 1 x 1,001; paid 2,000 by points offset, 3,333 principal, 1,111 bonus; earned 77 points.
    private static readonly SaleRecord Sale = new(
        "S1", "M1", "sh-001",
        [new RecordedLine("A", "food", 3, 9_000, 0), new RecordedLine("B", "food", 1, 1_001, 0)],
        10_001, 2_000, 2_000, 3_333, 1_111, 77, 0, 0, 0, 0, 0, 0, 0);

    [Fact]
    public void Refund_Full_ReversesEverythingExactly()
    {
        var r = RefundCalculator.Refund(Sale, null, null).Value!;

        Assert.Equal(10_001, r.Amount);
        Assert.Equal(77, r.PointsClawedBack);
        Assert.Equal(2_000, r.PointsRestored);
        Assert.Equal(3_333, r.PrincipalRestored);
        Assert.Equal(1_111, r.BonusRestored);
        Assert.Equal(10_001 - 2_000 - 3_333 - 1_111, r.CashRefund);
        Assert.Equal(0, r.Sale.Refundable);
    }

    [Fact]
    public void Refund_ManyPartials_AddUpExactlyToTheFullRefund()
    {
        var sale = Sale;
        var totals = (Clawed: 0L, Restored: 0L, Principal: 0L, Bonus: 0L, Amount: 0L);
        foreach (var amount in new long[] { 1, 999, 3_333, 17, 5_000 })
        {
            var r = RefundCalculator.Refund(sale, null, amount).Value!;
            totals = (totals.Clawed + r.PointsClawedBack, totals.Restored + r.PointsRestored, totals.Principal + r.PrincipalRestored, totals.Bonus + r.BonusRestored, totals.Amount + r.Amount);
            sale = r.Sale;
        }

        var last = RefundCalculator.Refund(sale, null, null).Value!;
        totals = (totals.Clawed + last.PointsClawedBack, totals.Restored + last.PointsRestored, totals.Principal + last.PrincipalRestored, totals.Bonus + last.BonusRestored, totals.Amount + last.Amount);

        Assert.Equal((77L, 2_000L, 3_333L, 1_111L, 10_001L), totals);
        Assert.Equal(6, last.Sale.RefundCount);
        Assert.Equal("refund_exceeds_sale", RefundCalculator.Refund(last.Sale, null, 1).Error!.Code);
        Assert.Equal("refund_exceeds_sale", RefundCalculator.Refund(last.Sale, null, null).Error!.Code);
    }

    [Fact]
    public void Refund_ByLines_UsesTheLinesNetShareAndTracksQuantities()
    {
        var first = RefundCalculator.Refund(Sale, [new RefundLine(0, 1)], null).Value!;
        var second = RefundCalculator.Refund(first.Sale, [new RefundLine(0, 2), new RefundLine(1, 1)], null).Value!;

        Assert.Equal(3_000, first.Amount);
        Assert.Equal(6_000 + 1_001, second.Amount);
        Assert.Equal(0, second.Sale.Refundable);
        Assert.Equal("refund_exceeds_sale", RefundCalculator.Refund(second.Sale, [new RefundLine(1, 1)], null).Error!.Code);
    }

    [Theory]
    [InlineData(0, 4)]
    [InlineData(1, 2)]
    public void Refund_MoreUnitsThanSold_Refused(int line, int quantity) =>
        Assert.Equal("refund_exceeds_sale", RefundCalculator.Refund(Sale, [new RefundLine(line, quantity)], null).Error!.Code);

    [Theory]
    [InlineData(0L)]
    [InlineData(10_002L)]
    [InlineData(-5L)]
    public void Refund_AmountOutOfRange_Refused(long amount) =>
        Assert.Equal("refund_exceeds_sale", RefundCalculator.Refund(Sale, null, amount).Error!.Code);

    [Fact]
    public void Refund_UnknownLineOrBothForms_Refused()
    {
        Assert.Equal("refund_invalid", RefundCalculator.Refund(Sale, [new RefundLine(5, 1)], null).Error!.Code);
        Assert.Equal("refund_invalid", RefundCalculator.Refund(Sale, [new RefundLine(0, 1)], 100).Error!.Code);
    }

    [Fact]
    public void Change_ClawBack_MayOverdrawPoints_ButNothingElseMay()
    {
        var r = RefundCalculator.Refund(Sale, null, null).Value!;
        var overdrawn = new Balances(10, 0, 0).Apply(r.Change with { Points = -77 });

        Assert.True(overdrawn.IsSuccess);
        Assert.Equal(-67, overdrawn.Value.Points);
        Assert.Equal("insufficient_points", new Balances(10, 0, 0).Apply(new LedgerChange(-11, 0, 0)).Error!.Code);
        Assert.Equal("insufficient_stored_value", new Balances(0, 5, 5).Apply(new LedgerChange(0, -6, 0, MayOverdrawPoints: true)).Error!.Code);
        Assert.Equal(-57, new Balances(-67, 0, 0).Apply(new LedgerChange(10, 0, 0)).Value.Points);
    }
}
