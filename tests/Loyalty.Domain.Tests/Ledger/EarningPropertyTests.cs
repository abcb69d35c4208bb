using FsCheck;
using FsCheck.Fluent;
using Loyalty.Domain.Ledger;
using Loyalty.Domain.Programme;
using Xunit;

namespace Loyalty.Domain.Tests.Ledger;

/// <summary>Property-based checks of the earning calculation over random baskets and random earning rules.</summary>
public sealed class EarningPropertyTests
{
    private static readonly string[] Skus = ["A", "B", "C", "D", "E", "F"];
    private static readonly string[] Categories = ["dairy", "bakery", "tobacco", "wine", "toys"];
    private static readonly Config Runs = Config.QuickThrowOnFailure.WithMaxTest(500);

    public sealed record Scenario(IReadOnlyList<SaleLine> Lines, ProgrammeRules Rules, TierRule Tier, int MemberDay)
    {
        public long Points() => SalePricing.Price(Lines, Tier, Rules, MemberDay, 0, 0, default).Value!.PointsEarned;

        public long PointsWith(IReadOnlyList<SaleLine> lines) => SalePricing.Price(lines, Tier, Rules, MemberDay, 0, 0, default).Value!.PointsEarned;

        public override string ToString() =>
            $"lines [{string.Join("; ", Lines.Select(l => $"{l.Sku}/{l.Category} {l.Quantity}x{l.UnitPrice}"))}], tier {Tier.Code}, day {MemberDay}, rules {System.Text.Json.JsonSerializer.Serialize(Rules.Earning)}";
    }

    private static readonly Gen<SaleLine> Line =
        from sku in Gen.Elements(Skus)
        from category in Gen.Elements(Categories)
        from quantity in Gen.Choose(1, 20)
        from price in Gen.Choose(0, 50_000)
        select new SaleLine(sku, category, quantity, price);

    private static readonly Gen<EarningRules> Earning =
        from rate in Gen.Choose(0, 10)
        from excludedCategories in Gen.SubListOf(Categories)
        from excludedSkus in Gen.SubListOf(Skus)
        from categoryMultipliers in Gen.SubListOf(Categories).SelectMany(cs => Gen.CollectToList(cs, c => Gen.Choose(0, 500).Select(m => new EarningMultiplier(c, m))))
        from skuMultipliers in Gen.SubListOf(Skus).SelectMany(ss => Gen.CollectToList(ss, s => Gen.Choose(0, 500).Select(m => new EarningMultiplier(s, m))))
        from minimumOrder in Gen.Choose(0, 100_000)
        from cap in Gen.Frequency((1, Gen.Constant<long?>(null)), (2, Gen.Choose(0, 5_000).Select(c => (long?)c)))
        select new EarningRules(rate, [.. excludedCategories], 100, 50, [.. excludedSkus], [.. categoryMultipliers], [.. skuMultipliers], minimumOrder, cap);

    private static readonly Arbitrary<Scenario> Cases = (
        from lines in Gen.ListOf(Line).Where(l => l.Count is > 0 and <= 8)
        from earning in Earning
        from tier in Gen.Elements(ProgrammeRules.DefaultTiers.ToArray())
        from day in Gen.Elements(100, 150, 200, 300)
        select new Scenario([.. lines], TestRules.With(earning), tier, day))
        .ToArbitrary();

    [Fact]
    public void MoreSpend_NeverEarnsFewerPoints()
    {
        var grow = from c in Cases.Generator from i in Gen.Choose(0, 7) from extraQty in Gen.Choose(1, 5) from extraPrice in Gen.Choose(0, 10_000) select (c, i, extraQty, extraPrice);
        Check.One(Runs, Prop.ForAll(grow.ToArbitrary(), t =>
        {
            var (c, i, extraQty, extraPrice) = t;
            var index = i % c.Lines.Count;
            var line = c.Lines[index];
            var more = c.Lines.Select((l, k) => k == index ? l with { Quantity = l.Quantity + extraQty, UnitPrice = l.UnitPrice + extraPrice } : l).ToList();
            var added = c.Lines.Append(line with { Quantity = 1 }).ToList();
            return c.PointsWith(more) >= c.Points() && c.PointsWith(added) >= c.Points();
        }));
    }

    [Fact]
    public void TheCap_AlwaysHolds()
    {
        Check.One(Runs, Prop.ForAll(Cases, c => c.Rules.Earning.CapPerTransaction is not { } cap || c.Points() <= cap));
    }

    [Fact]
    public void ExcludedLines_NeverChangeThePoints()
    {
        var withExcluded = from c in Cases.Generator from line in Line select (c, line);
        Check.One(Runs, Prop.ForAll(withExcluded.ToArbitrary(), t =>
        {
            var (c, line) = t;
            var earning = c.Rules.Earning;
            var excluded = earning.ExcludedCategories.Count > 0
                ? line with { Category = earning.ExcludedCategories[0] }
                : line with { Sku = "X-EXCLUDED" };
            var rules = earning.ExcludedCategories.Count > 0 ? c.Rules : c.Rules with { Earning = earning with { ExcludedSkus = [.. earning.ExcludedSkus ?? [], "X-EXCLUDED"] } };
            var before = SalePricing.Price(c.Lines, c.Tier, rules, c.MemberDay, 0, 0, default).Value!.PointsEarned;
            var after = SalePricing.Price([.. c.Lines, excluded], c.Tier, rules, c.MemberDay, 0, 0, default).Value!.PointsEarned;
            return before == after;
        }));
    }

    [Fact]
    public void Rounding_NeverCreatesPoints_AndLosesLessThanOne()
    {
        Check.One(Runs, Prop.ForAll(Cases, c =>
        {
            var quote = SalePricing.Price(c.Lines, c.Tier, c.Rules, c.MemberDay, 0, 0, default).Value!;
            var earning = c.Rules.Earning;
            var eligible = quote.Lines.Where(l => l.EarnsPoints).ToList();
            if (eligible.Sum(l => l.Net) < Math.Max(1, earning.MinimumOrder))
            {
                return quote.PointsEarned == 0;
            }

            // Exact value, as a fraction over 100^4: points must be its floor (or the cap, when lower).
            Int128 exact = eligible.Aggregate(Int128.Zero, (s, l) => s + ((Int128)l.Net * earning.MultiplierFor(l.Sku, l.Category))) * earning.PointsPerYuan * c.Tier.PointsMultiplierPercent * c.MemberDay;
            Int128 unit = (Int128)100 * 100 * 100 * 100;
            var floor = (long)(exact / unit);
            return quote.PointsEarned * unit <= exact && quote.PointsEarned == Math.Min(floor, earning.CapPerTransaction ?? long.MaxValue);
        }));
    }
}
