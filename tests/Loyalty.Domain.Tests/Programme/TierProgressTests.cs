using Loyalty.Domain.Programme;
using Xunit;

namespace Loyalty.Domain.Tests.Programme;

public sealed class TierProgressTests
{
    private static readonly IReadOnlyList<TierRule> Tiers = ProgrammeRules.DefaultTiers;

    [Fact]
    public void Rolling12Months_CountsTheCurrentMonthAndTheElevenBefore_AndDropsOlderMonths()
    {
        var progress = TierProgress.Parse(null)
            .Add(new DateOnly(2025, 12, 31), 1_000)
            .Add(new DateOnly(2026, 1, 5), 2_000)
            .Add(new DateOnly(2026, 11, 1), 3_000);

        Assert.Equal(6_000, progress.Total(new DateOnly(2026, 11, 20), TierPeriod.Rolling12Months));
        Assert.Equal(5_000, progress.Total(new DateOnly(2026, 12, 20), TierPeriod.Rolling12Months)); // December 2025 has left the window
        Assert.Equal(5_000, progress.Total(new DateOnly(2026, 11, 20), TierPeriod.CalendarYear));

        // Thirteen months are kept (the twelve before a period end must stay countable after it).
        Assert.Contains("2025-12", progress.Add(new DateOnly(2026, 12, 1), 10).Months.Keys);
        var later = progress.Add(new DateOnly(2027, 1, 1), 10);
        Assert.DoesNotContain("2025-12", later.Months.Keys);
        Assert.Equal(later.Months, TierProgress.Parse(later.ToJson()).Months);
    }

    [Fact]
    public void Refunds_CanLowerAMonth_ButTheTotalNeverGoesBelowZero()
    {
        var progress = TierProgress.Parse(null).Add(new DateOnly(2026, 11, 1), 500).Add(new DateOnly(2026, 11, 2), -800);

        Assert.Equal(0, progress.Total(new DateOnly(2026, 11, 2), TierPeriod.Rolling12Months));
    }

    [Theory]
    [InlineData("standard", 99_999, "standard")]
    [InlineData("standard", 100_000, "silver")]
    [InlineData("standard", 2_500_000, "platinum")] // several tiers at once: the highest reached
    [InlineData("gold", 0, "gold")] // never lower at a purchase or refund
    [InlineData("unknown", 0, "standard")]
    public void Reached_IsTheHighestTierMet_NeverBelowTheCurrentOne(string current, long total, string expected)
    {
        Assert.Equal(expected, TierProgress.Reached(Tiers, current, total).Code);
    }

    [Theory]
    [InlineData(TierBasis.QualifyingSpend, 12_345)]
    [InlineData(TierBasis.Purchases, 1)]
    [InlineData(TierBasis.PointsEarned, 123)]
    [InlineData(TierBasis.TopUp, 0)]
    public void Policy_CountsAPurchaseByItsBasis(TierBasis basis, long expected)
    {
        Assert.Equal(expected, new TierPolicy(basis).ForPurchase(12_345, 123));
    }

    [Fact]
    public void Validation_RefusesOverlappingThresholds_AndAnEntryTierWithAThreshold()
    {
        var overlapping = Tiers.Select((t, i) => i == 2 ? t with { Threshold = 100_000 } : t).ToList();
        var entryWithThreshold = Tiers.Select((t, i) => i == 0 ? t with { Threshold = 1 } : t).ToList();

        Assert.Null(ProgrammeValidation.Check(Tiers));
        Assert.Equal("threshold", ProgrammeValidation.Check(overlapping)!.Field);
        Assert.Equal("threshold", ProgrammeValidation.Check(entryWithThreshold)!.Field);
    }
}
