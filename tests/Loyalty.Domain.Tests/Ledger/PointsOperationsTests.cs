using Loyalty.Domain.Auth;
using Loyalty.Domain.Ledger;
using Loyalty.Domain.Programme;
using Loyalty.Domain.Org;
using Xunit;

namespace Loyalty.Domain.Tests.Ledger;

public sealed class PointsOperationsTests
{
    private static readonly DateOnly Today = new(2026, 11, 22);

    private static readonly OrgTree Chain = OrgTree.Create(
    [
        new OrgNode("hq", OrgNodeKind.Hq, "HQ", null),
        new OrgNode("east", OrgNodeKind.Region, "East", "hq"),
        new OrgNode("south", OrgNodeKind.Region, "South", "hq"),
        new OrgNode("sh-001", OrgNodeKind.Store, "SH", "east"),
        new OrgNode("gz-001", OrgNodeKind.Store, "GZ", "south"),
    ]).Value!;

    [Fact]
    public void TopUp_BandsWithAWindowAndAStoreScope_ApplyOnlyThere()
    {
        // Double-eleven promotion in the east region: top up 500, get 100 (instead of 50), 11-11 to 11-12 only.
        var rules = TopUpRules.Default with
        {
            Bands = [.. TopUpRules.Default.Bands, new TopUpBonusBand(50_000, 10_000, new DateOnly(2026, 11, 11), new DateOnly(2026, 11, 12), ["east"])],
        };

        Assert.Equal(10_000, PointsOperations.TopUp(50_000, rules, "sh-001", "p1", new DateOnly(2026, 11, 12), Chain).Value.Bonus);
        Assert.Equal(5_000, PointsOperations.TopUp(50_000, rules, "sh-001", "p1", new DateOnly(2026, 11, 13), Chain).Value.Bonus);
        Assert.Equal(5_000, PointsOperations.TopUp(50_000, rules, "gz-001", "p1", new DateOnly(2026, 11, 11), Chain).Value.Bonus);
        Assert.Null(ProgrammeValidation.Check(rules, Chain));
        Assert.Equal("stores", ProgrammeValidation.Check(rules with { Bands = [new TopUpBonusBand(100, 10, Stores: ["nowhere"])] }, Chain)!.Field);
        Assert.Equal("validTo", ProgrammeValidation.Check(rules with { Bands = [new TopUpBonusBand(100, 10, new DateOnly(2026, 2, 1), new DateOnly(2026, 1, 1))] })!.Field);
    }

    [Theory]
    [InlineData(49_999, 0)]
    [InlineData(50_000, 5_000)]
    [InlineData(99_999, 5_000)]
    [InlineData(100_000, 12_000)]
    public void TopUp_BonusFromTheHighestBandReached(long amount, long bonus)
    {
        var change = PointsOperations.TopUp(amount, TopUpRules.Default, "sh-001", "p1", Today).Value;

        Assert.Equal(amount, change.Principal);
        Assert.Equal(bonus, change.Bonus);
        Assert.Equal(0, change.Points);
    }

    [Fact]
    public void TopUp_DesignatedStoresAndOperators_OthersRefused()
    {
        var rules = TopUpRules.Default with { AllowedStores = ["sh-001"], AllowedPrincipals = ["p1"] };

        Assert.True(PointsOperations.TopUp(10_000, rules, "sh-001", "p1", Today).IsSuccess);
        Assert.Equal("top_up_not_allowed", PointsOperations.TopUp(10_000, rules, "gz-001", "p1", Today).Error!.Code);
        Assert.Equal("top_up_not_allowed", PointsOperations.TopUp(10_000, rules, "sh-001", "p2", Today).Error!.Code);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(99)]
    [InlineData(5_000_001)]
    public void TopUp_AmountOutOfRange_Refused(long amount) =>
        Assert.Equal("amount_invalid", PointsOperations.TopUp(amount, TopUpRules.Default, "sh-001", "p1", Today).Error!.Code);

    [Fact]
    public void Redemption_RewardOrPoints()
    {
        Assert.Equal(500, PointsOperations.Redemption("coffee", null, ProgrammeRules.DefaultRewards).Value.Points);
        Assert.Equal(42, PointsOperations.Redemption(null, 42, ProgrammeRules.DefaultRewards).Value.Points);
        Assert.Equal("reward_unknown", PointsOperations.Redemption("car", null, ProgrammeRules.DefaultRewards).Error!.Code);
        Assert.Equal("redemption_invalid", PointsOperations.Redemption("coffee", 5, ProgrammeRules.DefaultRewards).Error!.Code);
        Assert.Equal("points_invalid", PointsOperations.Redemption(null, 0, ProgrammeRules.DefaultRewards).Error!.Code);
    }

    [Theory]
    [InlineData(Role.StoreManager, 500, null)]
    [InlineData(Role.StoreManager, -500, null)]
    [InlineData(Role.StoreManager, 501, "approval_required")]
    [InlineData(Role.Terminal, 1, "approval_required")]
    [InlineData(Role.RegionManager, 5_000, null)]
    [InlineData(Role.HqAdmin, 50_001, "approval_required")]
    public void Adjustment_WithinAuthority(Role role, long points, string? code) =>
        Assert.Equal(code, PointsOperations.Adjustment(points, "goodwill", role, AdjustmentAuthority.Default).Error?.Code);

    [Fact]
    public void Adjustment_NeedsAReasonAndNonZeroPoints()
    {
        Assert.Equal("reason_required", PointsOperations.Adjustment(10, " ", Role.HqAdmin, AdjustmentAuthority.Default).Error!.Code);
        Assert.Equal("points_invalid", PointsOperations.Adjustment(0, "x", Role.HqAdmin, AdjustmentAuthority.Default).Error!.Code);
    }
}
