using Loyalty.Domain.Reports;
using Loyalty.Domain.Tags;
using Xunit;

namespace Loyalty.Domain.Tests.Reports;

public sealed class ProgrammeHealthTests
{
    private static readonly DateOnly Today = new(2026, 11, 22);

    private static MemberStats Bought(params (string Month, long Spend, long Purchases)[] months) => new()
    {
        Months = new SortedDictionary<string, long[]>(months.ToDictionary(m => m.Month, m => new[] { m.Spend, m.Purchases }), StringComparer.Ordinal),
        LastPurchase = months.Length == 0 ? null : months.Max(m => m.Month) + "-10",
    };

    [Theory]
    [InlineData(0, 0)]
    [InlineData(999, 0)]
    [InlineData(1_000, 1_000)]
    [InlineData(99_999, 99_000)]
    [InlineData(100_000, 100_000)]
    [InlineData(123_456, 120_000)]
    [InlineData(2_345_678, 2_300_000)]
    public void Buckets_AreTenYuanThenHundredThenThousand(long fen, long bucket) => Assert.Equal(bucket, ProgrammeHealth.Bucket(fen));

    [Fact]
    public void Add_CountsTiersDormancyRepurchaseAndBothWindows()
    {
        var health = new ProgrammeHealth();
        health.Add("gold", Bought(("2026-11", 30_000, 2), ("2026-03", 20_000, 1)), Today, new DateOnly(2024, 1, 1), 180);
        health.Add("standard", Bought(("2026-06", 5_000, 1)), Today, new DateOnly(2024, 1, 1), 180);
        health.Add("standard", Bought(), Today, new DateOnly(2026, 11, 1), 180);
        health.Add("standard", Bought(), Today, new DateOnly(2025, 1, 1), 180);

        Assert.Equal(4, health.Members);
        Assert.Equal(3, health.Tiers["standard"]);
        Assert.Equal(1, health.Dormant); // enrolled 2025-01-01, never bought; the 2026-06-10 buyer is 165 days back
        Assert.Equal(2, health.Buyers12);
        Assert.Equal(1, health.Repeat12);
        Assert.Equal(new SortedDictionary<long, long> { [0] = 2, [5_000] = 1, [50_000] = 1 }, health.Spend12);
        Assert.Equal(new SortedDictionary<long, long> { [0] = 2, [5_000] = 1, [30_000] = 1 }, health.Spend6); // June to November: March is out
    }

    [Fact]
    public void QuantilesAndThresholds_ComeFromTheBuyers()
    {
        var histogram = new SortedDictionary<long, long> { [0] = 5, [10_000] = 2, [20_000] = 1, [90_000] = 1 };
        Assert.Equal(0, ProgrammeHealth.Quantile(histogram, 0.5, buyersOnly: false));
        Assert.Equal(10_000, ProgrammeHealth.Quantile(histogram, 0.5, buyersOnly: true));
        Assert.Equal([10_000L, 20_000L, 90_000L], ProgrammeHealth.SuggestThresholds(histogram, 3));
        Assert.Null(ProgrammeHealth.Quantile(new SortedDictionary<long, long> { [0] = 3 }, 0.5, buyersOnly: true));
        Assert.Empty(ProgrammeHealth.SuggestThresholds(new SortedDictionary<long, long>(), 2));
    }

    [Fact]
    public void Merge_AddsUp_AndSurvivesStorage()
    {
        var a = new ProgrammeHealth();
        a.Add("silver", Bought(("2026-10", 12_000, 1)), Today, Today, 180);
        var b = new ProgrammeHealth();
        b.Add("silver", Bought(("2026-10", 12_500, 2)), Today, Today, 180);
        var merged = ProgrammeHealth.Parse(a.ToJson());
        merged.Merge(ProgrammeHealth.Parse(b.ToJson()));
        Assert.Equal(2, merged.Members);
        Assert.Equal(2, merged.Tiers["silver"]);
        Assert.Equal(2, merged.Spend12[12_000]);
        Assert.Equal(1, merged.Repeat12);
    }
}
