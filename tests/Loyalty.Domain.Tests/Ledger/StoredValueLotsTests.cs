using Loyalty.Domain.Ledger;
using Xunit;

namespace Loyalty.Domain.Tests.Ledger;

public sealed class StoredValueLotsTests
{
    [Fact]
    public void RefundPrincipal_TwoTopUpsRefundedInFourParts_TakesBackAllTheirBonus_OldestFirst()
    {
        // 500 yuan (+50) then 1,000 yuan (+120): 170 yuan of bonus.
        var lots = StoredValueLots.Parse(null, 0, 0).Apply(50_000, 5_000).Apply(100_000, 12_000);
        var taken = new List<long>();

        for (var i = 0; i < 4; i++)
        {
            var (bonus, after) = lots.RefundPrincipal(37_500);
            taken.Add(bonus);
            lots = after;
        }

        Assert.Equal([3_750L, 4_250L, 4_500L, 4_500L], taken);
        Assert.Equal(0, lots.Principal);
        Assert.Equal(0, lots.Bonus);
        Assert.Empty(lots.Lots);
    }

    [Fact]
    public void RefundPrincipal_PartOfALot_TakesThatShareOfItsBonus_RoundedDown()
    {
        var lots = StoredValueLots.Parse(null, 0, 0).Apply(100_000, 12_000);

        var (bonus, after) = lots.RefundPrincipal(10_001);

        Assert.Equal(1_200, bonus); // 12,000 x 10,001 / 100,000 = 1,200.12
        Assert.Equal(new StoredValueLot(89_999, 10_800), Assert.Single(after.Lots));
    }

    [Fact]
    public void RefundPrincipal_AfterTheFirstTopUpWasSpent_TakesNothingFromItsBonus()
    {
        // The first top-up's principal went on a sale (principal first); its bonus is still there. Refunding the second
        // top-up, which had no bonus, must not take the first one's.
        var lots = StoredValueLots.Parse(null, 0, 0).Apply(50_000, 5_000).Apply(-50_000, 0).Apply(20_000, 0);

        var (bonus, after) = lots.RefundPrincipal(20_000);

        Assert.Equal(0, bonus);
        Assert.Equal(0, after.Principal);
        Assert.Equal(5_000, after.Bonus);
    }

    [Fact]
    public void Apply_SpendingTakesEachKindFromTheOldestLotThatHasIt_CreditsAddALot()
    {
        var lots = StoredValueLots.Parse(null, 0, 0).Apply(10_000, 1_000).Apply(20_000, 3_000);

        var after = lots.Apply(-12_000, -1_500).Apply(500, 100);

        Assert.Equal([new StoredValueLot(18_000, 2_500), new StoredValueLot(500, 100)], after.Lots);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("not json")]
    [InlineData("[[1,2]]")]
    [InlineData("[[-5,0],[105,30]]")]
    public void Parse_MissingOrInconsistentLots_BecomeOneLotHoldingTheBalances(string? json)
    {
        var lots = StoredValueLots.Parse(json, 100, 30);

        Assert.Equal(new StoredValueLot(100, 30), Assert.Single(lots.Lots));
    }

    [Fact]
    public void Parse_ConsistentLots_AreKept_AndRoundTrip()
    {
        var lots = StoredValueLots.Parse("[[70,10],[30,20]]", 100, 30);

        Assert.Equal(2, lots.Lots.Count);
        Assert.Equal("[[70,10],[30,20]]", lots.ToJson());
        Assert.Equal((100L, 30L), StoredValueLots.Sums(lots.ToJson()));
    }

    [Fact]
    public void Apply_ManyCredits_KeepAtMostTheLimit_MergingTheOldest_WithoutLosingValue()
    {
        var lots = StoredValueLots.Parse(null, 0, 0);
        for (var i = 1; i <= StoredValueLots.MaxLots + 10; i++)
        {
            lots = lots.Apply(i * 100, i);
        }

        var n = StoredValueLots.MaxLots + 10;
        Assert.Equal(StoredValueLots.MaxLots, lots.Lots.Count);
        Assert.Equal(100L * n * (n + 1) / 2, lots.Principal);
        Assert.Equal((long)n * (n + 1) / 2, lots.Bonus);
    }
}
