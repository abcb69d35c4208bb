using Loyalty.Domain.Ledger;
using Loyalty.Domain.Programme;
using Xunit;

namespace Loyalty.Domain.Tests.Ledger;

public sealed class SalePricingTests
{
    private static readonly ProgrammeRules Rules = TestRules.With(new EarningRules(1, ["tobacco"], 100, 50), [new MemberDayRule(15, 200)]);

    private static readonly TierRule Gold = ProgrammeRules.DefaultTiers[2];
    private static readonly TierRule Standard = ProgrammeRules.DefaultTiers[0];

    [Fact]
    public void Price_GoldTier_DiscountsEachLineAndEarnsWithMultiplier()
    {
        var quote = SalePricing.Price([new("A", "food", 2, 1_999), new("B", "drink", 1, 1_001)], Gold, Rules, 100, 0, 0, default).Value!;

        Assert.Equal(4_999, quote.Gross);
        Assert.Equal(3_798 + 950, quote.Net); // 3998 * 95% = 3798.1 -> 3798; 1001 * 95% = 950.95 -> 950
        Assert.Equal(quote.Gross - quote.Net, quote.MemberDiscount);
        Assert.Equal(quote.Net, quote.AmountDue);
        Assert.Equal(71, quote.PointsEarned); // 4748 fen * 1/yuan * 1.5 = 71.22 -> 71
    }

    [Fact]
    public void Price_ExcludedCategory_EarnsNothingButIsStillDiscounted()
    {
        var quote = SalePricing.Price([new("T", "Tobacco", 1, 3_000), new("A", "food", 1, 1_000)], Standard, Rules, 100, 0, 0, default).Value!;

        Assert.False(quote.Lines[0].EarnsPoints);
        Assert.Equal(4_000, quote.AmountDue);
        Assert.Equal(10, quote.PointsEarned);
    }

    [Fact]
    public void Price_MemberDay_DoublesPoints() =>
        Assert.Equal(20, SalePricing.Price([new("A", "food", 1, 1_000)], Standard, Rules, Rules.MemberDayMultiplier(new DateTime(2026, 11, 15, 10, 0, 0)), 0, 0, default).Value!.PointsEarned);

    [Fact]
    public void Price_PointsOffset_ReducesDueAndTheEarningBase()
    {
        var quote = SalePricing.Price([new("A", "food", 1, 10_000)], Standard, Rules, 100, 2_000, 0, new Balances(5_000, 0, 0)).Value!;

        Assert.Equal(2_000, quote.PointsOffset); // 2000 points at 100 per yuan = 20 yuan
        Assert.Equal(8_000, quote.AmountDue);
        Assert.Equal(80, quote.PointsEarned);
        Assert.Equal(80 - 2_000, quote.Change.Points);
    }

    [Theory]
    [InlineData(6_000, 10_000, "points_offset_too_large")]
    [InlineData(2_000, 1_000, "insufficient_points")]
    [InlineData(-100, 10_000, "points_offset_invalid")]
    public void Price_BadOffset_Refused(long points, long balance, string code) =>
        Assert.Equal(code, SalePricing.Price([new("A", "food", 1, 10_000)], Standard, Rules, 100, points, 0, new Balances(balance, 0, 0)).Error!.Code);

    [Fact]
    public void Price_OffsetNotAWholeFen_Refused()
    {
        var rules = Rules with { Earning = Rules.Earning with { OffsetPointsPerYuan = 1_000 } };
        Assert.Equal("points_offset_invalid", SalePricing.Price([new("A", "food", 1, 10_000)], Standard, rules, 100, 15, 0, new Balances(100, 0, 0)).Error!.Code);
        Assert.Equal(2, SalePricing.Price([new("A", "food", 1, 10_000)], Standard, rules, 100, 20, 0, new Balances(100, 0, 0)).Value!.PointsOffset);
    }

    [Theory]
    [InlineData(SpendOrder.BonusFirst, 300, 700)]
    [InlineData(SpendOrder.PrincipalFirst, 1_000, 0)]
    public void Price_StoredValue_SplitsInTheConfiguredOrder(SpendOrder order, long principal, long bonus)
    {
        var rules = Rules with { StoredValue = new StoredValueRules(order) };
        var quote = SalePricing.Price([new("A", "food", 1, 5_000)], Standard, rules, 100, 0, 1_000, new Balances(0, 2_000, 700)).Value!;

        Assert.Equal(principal, quote.StoredValuePrincipal);
        Assert.Equal(bonus, quote.StoredValueBonus);
        Assert.Equal(4_000, quote.AmountDue);
    }

    [Theory]
    [InlineData(6_000, 10_000, "stored_value_exceeds_due")]
    [InlineData(3_000, 2_999, "insufficient_stored_value")]
    [InlineData(-1, 10_000, "stored_value_exceeds_due")]
    public void Price_BadStoredValue_Refused(long pay, long balance, string code) =>
        Assert.Equal(code, SalePricing.Price([new("A", "food", 1, 5_000)], Standard, Rules, 100, 0, pay, new Balances(0, balance, 0)).Error!.Code);

    [Theory]
    [InlineData("", "food", 1, 100)]
    [InlineData("A", "", 1, 100)]
    [InlineData("A", "food", 0, 100)]
    [InlineData("A", "food", 1, -1)]
    public void Price_BadLine_Refused(string sku, string category, int quantity, long price) =>
        Assert.Equal("lines_invalid", SalePricing.Price([new(sku, category, quantity, price)], Standard, Rules, 100, 0, 0, default).Error!.Code);

    [Fact]
    public void Price_NoLines_Refused() => Assert.Equal("lines_invalid", SalePricing.Price([], Standard, Rules, 100, 0, 0, default).Error!.Code);
}
