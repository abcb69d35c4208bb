using Loyalty.Domain.Programme;
using Xunit;

namespace Loyalty.Domain.Tests.Programme;

public sealed class UpgradeGrantsTests
{
    private static readonly IReadOnlyList<TierRule> Tiers = ProgrammeRules.DefaultTiers;

    private static UpgradeGrant Grant(int rank, string pack) => new(Tiers[rank].Code, pack, 100 * rank, [pack + "-code"]);

    [Fact]
    public void Grants_RoundTripThroughTheirJson_AndNoneIsEmpty()
    {
        Assert.Empty(UpgradeGrants.Parse(null).Items);
        var grants = UpgradeGrants.Parse(null).With(Grant(1, "a"), Tiers).With(Grant(2, "b"), Tiers);

        var read = UpgradeGrants.Parse(grants.ToJson());

        Assert.Equal(["a", "b"], read.Items.Select(g => g.GiftPackId));
        Assert.Equal(["b-code"], read.Items[1].Coupons);
    }

    [Fact]
    public void ReachingATierAgain_ReplacesItsGrant_AndDropsThoseOfHigherTiers()
    {
        var grants = UpgradeGrants.Parse(null).With(Grant(1, "first"), Tiers).With(Grant(2, "higher"), Tiers);

        var again = grants.With(Grant(1, "second"), Tiers);

        Assert.Equal(["second"], again.Items.Select(g => g.GiftPackId));
    }

    [Fact]
    public void GoingDown_SplitsTheGrantsOfTheTiersLeft_FromThoseKept()
    {
        var grants = UpgradeGrants.Parse(null).With(Grant(1, "one"), Tiers).With(Grant(2, "two"), Tiers);

        var (left, kept) = grants.SplitAbove(Tiers[1].Code, Tiers);

        Assert.Equal(["two"], left.Select(g => g.GiftPackId));
        Assert.Equal(["one"], kept.Items.Select(g => g.GiftPackId));
        Assert.Equal(2, grants.SplitAbove(Tiers[0].Code, Tiers).Above.Count);
    }
}
