using Loyalty.Domain.Ledger;
using Loyalty.Domain.Org;
using Loyalty.Domain.Programme;
using Xunit;

namespace Loyalty.Domain.Tests.Programme;

public sealed class EarningRulesTests
{
    private static readonly OrgTree Org = OrgTree.Create(
    [
        new OrgNode("hq", OrgNodeKind.Hq, "HQ", null),
        new OrgNode("east", OrgNodeKind.Region, "East", "hq"),
        new OrgNode("sh-001", OrgNodeKind.Store, "SH", "east"),
        new OrgNode("hz-001", OrgNodeKind.Store, "HZ", "east"),
        new OrgNode("south", OrgNodeKind.Region, "South", "hq"),
        new OrgNode("gz-001", OrgNodeKind.Store, "GZ", "south"),
    ]).Value!;

    private static readonly TierRule Standard = ProgrammeRules.DefaultTiers[0];

    private static long Points(EarningRules earning, params SaleLine[] lines) =>
        SalePricing.Price(lines, Standard, TestRules.With(earning), 100, 0, 0, default).Value!.PointsEarned;

    [Fact]
    public void SkuMultiplier_WinsOverItsCategory_AndExcludedSkusEarnNothing()
    {
        var rules = EarningRules.Default with
        {
            CategoryMultipliers = [new("dairy", 200)],
            SkuMultipliers = [new("MILK-PROMO", 500)],
            ExcludedSkus = ["GIFTCARD"],
        };

        Assert.Equal(20, Points(rules, new SaleLine("MILK", "dairy", 1, 1_000)));
        Assert.Equal(50, Points(rules, new SaleLine("milk-promo", "dairy", 1, 1_000)));
        Assert.Equal(10, Points(rules, new SaleLine("BREAD", "bakery", 1, 1_000)));
        Assert.Equal(10, Points(rules, new SaleLine("BREAD", "bakery", 1, 1_000), new SaleLine("GIFTCARD", "bakery", 1, 50_000)));
    }

    [Fact]
    public void MinimumOrder_AndCap()
    {
        var rules = EarningRules.Default with { MinimumOrder = 2_000, CapPerTransaction = 100 };

        Assert.Equal(0, Points(rules, new SaleLine("A", "food", 1, 1_999)));
        Assert.Equal(20, Points(rules, new SaleLine("A", "food", 1, 2_000)));
        Assert.Equal(100, Points(rules, new SaleLine("A", "food", 1, 1_000_000)));
    }

    [Fact]
    public void ScopeRates_TheStoreWins_ThenItsRegion_ThenTheChain()
    {
        var rules = EarningRules.Default with { ScopeRates = [new("east", 2), new("hz-001", 5)] };

        Assert.Equal(2, rules.ForStore("sh-001", Org).PointsPerYuan);
        Assert.Equal(5, rules.ForStore("hz-001", Org).PointsPerYuan);
        Assert.Equal(1, rules.ForStore("gz-001", Org).PointsPerYuan);
        Assert.Equal("scopeRates", ProgrammeValidation.Check(rules with { ScopeRates = [new("nowhere", 2)] }, Org)!.Field);
        Assert.Equal("scopeRates", ProgrammeValidation.Check(rules with { ScopeRates = [new("hq", 2)] }, Org)!.Field);
        Assert.Null(ProgrammeValidation.Check(rules, Org));
    }

    [Theory]
    [InlineData(2026, 11, 15, 10, 200)] // the 15th, any hour
    [InlineData(2026, 11, 18, 19, 300)] // a Wednesday evening
    [InlineData(2026, 11, 18, 12, 100)] // a Wednesday, outside the hours
    [InlineData(2026, 11, 19, 19, 100)] // a Thursday evening
    public void MemberDays_ByDayOfMonth_OrByWeekdayWithinHours_HighestApplies(int year, int month, int day, int hour, int expected)
    {
        var rules = TestRules.With(EarningRules.Default, [new MemberDayRule(15, 200), new MemberDayRule(null, 300, [DayOfWeek.Wednesday], 18, 22)]);

        Assert.Equal(expected, rules.MemberDayMultiplier(new DateTime(year, month, day, hour, 0, 0)));
    }

    [Theory]
    [InlineData("pointsPerYuan")]
    [InlineData("categoryMultipliers")]
    [InlineData("minimumOrder")]
    public void Validation_RefusesNegativeRates(string field)
    {
        var rules = field switch
        {
            "pointsPerYuan" => EarningRules.Default with { PointsPerYuan = -1 },
            "categoryMultipliers" => EarningRules.Default with { CategoryMultipliers = [new("dairy", -10)] },
            _ => EarningRules.Default with { MinimumOrder = -1 },
        };

        Assert.Equal(field, ProgrammeValidation.Check(rules)!.Field);
    }

    [Fact]
    public void MemberDayValidation_NeedsADay_AndSaneHours()
    {
        Assert.Equal("dayOfMonth", ProgrammeValidation.Check([new MemberDayRule(null, 200)])!.Field);
        Assert.Equal("fromHour", ProgrammeValidation.Check([new MemberDayRule(15, 200, null, 20, 18)])!.Field);
        Assert.Null(ProgrammeValidation.Check([new MemberDayRule(15, 200), new MemberDayRule(15, 300, null, 18, 20)]));
    }
}
