using Loyalty.Domain.Coupons;
using Loyalty.Domain.Ledger;
using Loyalty.Domain.Programme;
using Xunit;

namespace Loyalty.Domain.Tests.Coupons;

public sealed class CouponPricingTests
{
    private static readonly ProgrammeRules Rules = TestRules.With(new EarningRules(1, ["tobacco"], 100, 50));

    private static readonly TierRule Standard = ProgrammeRules.DefaultTiers[0];
    private static readonly TierRule Gold = ProgrammeRules.DefaultTiers[2];

    private static readonly SaleLine[] Basket =
    [
        new("MILK", "dairy", 2, 2_550), // 5,100
        new("BREAD", "bakery", 1, 1_200), // 1,200
        new("CIGS", "tobacco", 1, 3_000), // 3,000
    ];

    private static CouponUse Use(CouponKind kind, long? amount = null, int? percent = null, long? cap = null, string? sku = null, long minSpend = 0, string[]? categories = null, bool stacks = true) =>
        new("TESTCODE2345", new CouponTerms(kind, amount, percent, cap, sku, minSpend, categories ?? [], [], stacks));

    private static SaleQuote Price(TierRule tier, params CouponUse[] coupons) =>
        SalePricing.Price(Basket, tier, Rules, 100, 0, 0, default, coupons).Value!;

    [Fact]
    public void AmountOff_SpreadsOverCoveredLines_InProportion_AndAddsUpExactly()
    {
        var quote = Price(Standard, Use(CouponKind.AmountOff, amount: 1_001, categories: ["dairy", "bakery"]));

        Assert.Equal(1_001, quote.CouponDiscount);
        Assert.Equal(1_001, quote.Lines.Sum(l => l.CouponDiscount));
        Assert.Equal(0, quote.Lines[2].CouponDiscount); // tobacco is not covered
        Assert.Equal(810 + 1, quote.Lines[0].CouponDiscount); // 1001 * 5100/6300 = 810.4 -> 810, +1 remainder
        Assert.Equal(190, quote.Lines[1].CouponDiscount); // 1001 * 1200/6300 = 190.6 -> 190
        Assert.Equal(9_300 - 1_001, quote.Net);
        Assert.Equal(quote.Net, quote.AmountDue);
        Assert.Equal(0, quote.MemberDiscount);
        Assert.Equal(52, quote.PointsEarned); // (5100 + 1200 - 1001) fen earn; tobacco earns nothing
    }

    [Fact]
    public void AmountOff_LargerThanEligibleSpend_TakesOnlyWhatIsThere()
    {
        var quote = Price(Standard, Use(CouponKind.AmountOff, amount: 50_000, categories: ["bakery"]));

        Assert.Equal(1_200, quote.CouponDiscount);
        Assert.Equal(0, quote.Lines[1].Net);
    }

    [Fact]
    public void MinSpend_IsMeasuredOnTheCoveredLines()
    {
        var refused = SalePricing.Price(Basket, Standard, Rules, 100, 0, 0, default, [Use(CouponKind.AmountOff, amount: 500, minSpend: 5_101, categories: ["dairy"])]);
        var accepted = SalePricing.Price(Basket, Standard, Rules, 100, 0, 0, default, [Use(CouponKind.AmountOff, amount: 500, minSpend: 5_100, categories: ["dairy"])]);

        Assert.Equal("coupon_min_spend_not_met", refused.Error!.Code);
        Assert.True(accepted.IsSuccess);
    }

    [Fact]
    public void PercentOff_IsCapped()
    {
        var uncapped = Price(Standard, Use(CouponKind.PercentOff, percent: 10));
        var capped = Price(Standard, Use(CouponKind.PercentOff, percent: 10, cap: 500));

        Assert.Equal(930, uncapped.CouponDiscount);
        Assert.Equal(500, capped.CouponDiscount);
    }

    [Fact]
    public void FreeItem_TakesOneUnitOfTheSku_AfterTheMemberDiscount()
    {
        var quote = Price(Gold, Use(CouponKind.FreeItem, sku: "milk"));

        // Gold pays 95%: the milk line nets 4,845 for 2 units; one unit is 2,422.
        Assert.Equal(2_422, quote.CouponDiscount);
        Assert.Equal(4_845 - 2_422, quote.Lines[0].Net);
    }

    [Fact]
    public void FreeItem_NotInTheBasket_IsNotApplicable()
    {
        var result = SalePricing.Price(Basket, Standard, Rules, 100, 0, 0, default, [Use(CouponKind.FreeItem, sku: "COFFEE")]);

        Assert.Equal("coupon_not_applicable", result.Error!.Code);
    }

    [Fact]
    public void CategoryCoupon_WithoutMatchingLines_IsNotApplicable()
    {
        var result = SalePricing.Price(Basket, Standard, Rules, 100, 0, 0, default, [Use(CouponKind.AmountOff, amount: 100, categories: ["toys"])]);

        Assert.Equal("coupon_not_applicable", result.Error!.Code);
    }

    [Fact]
    public void NonStackingCoupon_RemovesTheTierDiscount_OnlyOnTheLinesItCovers()
    {
        var stacking = Price(Gold, Use(CouponKind.AmountOff, amount: 1_000, categories: ["dairy"]));
        var exclusive = Price(Gold, Use(CouponKind.AmountOff, amount: 1_000, categories: ["dairy"], stacks: false));

        Assert.Equal(255, stacking.Lines[0].Discount); // 5% of 5,100
        Assert.Equal(0, exclusive.Lines[0].Discount);
        Assert.Equal(60, exclusive.Lines[1].Discount); // bread keeps the gold discount
        Assert.Equal(5_100 - 1_000, exclusive.Lines[0].Net);
        Assert.Equal(exclusive.Gross - exclusive.Net - exclusive.CouponDiscount, exclusive.MemberDiscount);
    }

    [Fact]
    public void TwoCoupons_ApplyInOrder_OnWhatIsLeft()
    {
        var quote = Price(Standard, Use(CouponKind.AmountOff, amount: 300), Use(CouponKind.PercentOff, percent: 10) with { Code = "SECONDCODE23" });

        Assert.Equal(300, quote.Coupons[0].Discount);
        Assert.Equal((9_300 - 300) / 10, quote.Coupons[1].Discount);
        Assert.Equal(9_300 - 300 - 900, quote.Net);
    }

    [Fact]
    public void Coupons_AndPointsOffset_NeverMakeTheAmountDueNegative()
    {
        var result = SalePricing.Price(Basket, Standard, Rules, 100, 151, 0, new Balances(1_000_000, 0, 0), [Use(CouponKind.AmountOff, amount: 9_000)]);

        // Points may pay at most half of what is left after the coupon (300 fen -> 150 fen = 150 points).
        Assert.Equal("points_offset_too_large", result.Error!.Code);
        var ok = SalePricing.Price(Basket, Standard, Rules, 100, 150, 0, new Balances(1_000_000, 0, 0), [Use(CouponKind.AmountOff, amount: 9_000)]).Value!;
        Assert.Equal(150, ok.AmountDue);
    }

    [Fact]
    public void Refund_OfACouponLine_GivesBackWhatWasPaid_NotTheGross()
    {
        var quote = Price(Standard, Use(CouponKind.AmountOff, amount: 1_000, categories: ["bakery"]));
        var record = SaleRecord.From("S1", "m", "sh-001", quote);

        var refund = RefundCalculator.Refund(record, [new RefundLine(1, 1)], null).Value!;

        Assert.Equal(200, refund.Amount);
        Assert.Equal(["TESTCODE2345"], record.Coupons);
    }
}
