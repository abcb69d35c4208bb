using Loyalty.Domain.Auth;
using Loyalty.Domain.Ledger;
using Loyalty.Domain.Programme;
using Xunit;

namespace Loyalty.Domain.Tests.Ledger;

public sealed class PointsOperationsTests
{
    [Theory]
    [InlineData(49_999, 0)]
    [InlineData(50_000, 5_000)]
    [InlineData(99_999, 5_000)]
    [InlineData(100_000, 12_000)]
    public void TopUp_BonusFromTheHighestBandReached(long amount, long bonus)
    {
        var change = PointsOperations.TopUp(amount, TopUpRules.Default, "sh-001", "p1").Value;

        Assert.Equal(amount, change.Principal);
        Assert.Equal(bonus, change.Bonus);
        Assert.Equal(0, change.Points);
    }

    [Fact]
    public void TopUp_DesignatedStoresAndOperators_OthersRefused()
    {
        var rules = TopUpRules.Default with { AllowedStores = ["sh-001"], AllowedPrincipals = ["p1"] };

        Assert.True(PointsOperations.TopUp(10_000, rules, "sh-001", "p1").IsSuccess);
        Assert.Equal("top_up_not_allowed", PointsOperations.TopUp(10_000, rules, "gz-001", "p1").Error!.Code);
        Assert.Equal("top_up_not_allowed", PointsOperations.TopUp(10_000, rules, "sh-001", "p2").Error!.Code);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(99)]
    [InlineData(5_000_001)]
    public void TopUp_AmountOutOfRange_Refused(long amount) =>
        Assert.Equal("amount_invalid", PointsOperations.TopUp(amount, TopUpRules.Default, "sh-001", "p1").Error!.Code);

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
