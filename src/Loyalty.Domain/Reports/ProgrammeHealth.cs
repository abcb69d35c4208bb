using System.Globalization;
using System.Text.Json;
using Loyalty.Domain.Tags;

namespace Loyalty.Domain.Reports;

/// <summary>
/// The programme-health figures of a group of members (one store's members in a snapshot; added up for a region or
/// the chain): members by tier, dormant members, buyers and repeat buyers of the last 12 months, and histograms of
/// cumulative spend over the last 6 and 12 months. Spend is bucketed (10 yuan below 1,000 yuan, 100 yuan below
/// 10,000, 1,000 above) so stores add up without keeping every member's figure.
/// </summary>
public sealed class ProgrammeHealth
{
    /// <summary>Members counted.</summary>
    public long Members { get; set; }

    /// <summary>Members by tier code.</summary>
    public SortedDictionary<string, long> Tiers { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Members with no purchase (or, never having bought, no enrolment) for <c>dormantDays</c>.</summary>
    public long Dormant { get; set; }

    /// <summary>Members with at least one purchase in the last 12 months.</summary>
    public long Buyers12 { get; set; }

    /// <summary>Members with at least two purchases in the last 12 months.</summary>
    public long Repeat12 { get; set; }

    /// <summary>Members by 6-month spend bucket (lower bound in fen).</summary>
    public SortedDictionary<long, long> Spend6 { get; init; } = [];

    /// <summary>Members by 12-month spend bucket (lower bound in fen).</summary>
    public SortedDictionary<long, long> Spend12 { get; init; } = [];

    /// <summary>Counts one member.</summary>
    public void Add(string tier, MemberStats stats, DateOnly today, DateOnly enrolled, int dormantDays)
    {
        ArgumentNullException.ThrowIfNull(tier);
        ArgumentNullException.ThrowIfNull(stats);
        Members++;
        Tiers[tier] = Tiers.GetValueOrDefault(tier) + 1;
        var last = stats.LastPurchase is { } day ? DateOnly.ParseExact(day, "yyyy-MM-dd", CultureInfo.InvariantCulture) : enrolled;
        if (last.AddDays(dormantDays) < today)
        {
            Dormant++;
        }

        var purchases = stats.Purchases12(today);
        Buyers12 += purchases >= 1 ? 1 : 0;
        Repeat12 += purchases >= 2 ? 1 : 0;
        Count(Spend6, Bucket(SpendOver(stats, today, 6)));
        Count(Spend12, Bucket(stats.Spend12(today)));
    }

    /// <summary>Adds another group's figures to these.</summary>
    public void Merge(ProgrammeHealth other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Members += other.Members;
        Dormant += other.Dormant;
        Buyers12 += other.Buyers12;
        Repeat12 += other.Repeat12;
        foreach (var (tier, n) in other.Tiers)
        {
            Tiers[tier] = Tiers.GetValueOrDefault(tier) + n;
        }

        foreach (var (bucket, n) in other.Spend6)
        {
            Count(Spend6, bucket, n);
        }

        foreach (var (bucket, n) in other.Spend12)
        {
            Count(Spend12, bucket, n);
        }
    }

    /// <summary>The lower bound (fen) of the bucket of <paramref name="fen"/>.</summary>
    public static long Bucket(long fen)
    {
        var step = fen < 100_000 ? 1_000 : fen < 1_000_000 ? 10_000 : 100_000;
        return Math.Max(0, fen) / step * step;
    }

    /// <summary>
    /// The bucket lower bound at which <paramref name="share"/> of the members counted in <paramref name="histogram"/>
    /// (those with spend, when <paramref name="buyersOnly"/>) have been passed; null when nobody is counted.
    /// </summary>
    public static long? Quantile(IReadOnlyDictionary<long, long> histogram, double share, bool buyersOnly)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        var rows = histogram.Where(h => !buyersOnly || h.Key > 0).OrderBy(h => h.Key).ToList();
        var total = rows.Sum(r => r.Value);
        if (total == 0)
        {
            return null;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(share * total));
        long seen = 0;
        foreach (var (bucket, n) in rows)
        {
            seen += n;
            if (seen >= rank)
            {
                return bucket;
            }
        }

        return rows[^1].Key;
    }

    /// <summary>
    /// Suggested lower bounds of the tiers above the entry tier, from the 12-month spend of members who bought: the
    /// first at the median (so about half of the buyers reach it), the others spread up to the 95th percentile.
    /// </summary>
    public static IReadOnlyList<long> SuggestThresholds(IReadOnlyDictionary<long, long> spend12, int tiersAboveEntry)
    {
        var suggested = new List<long>();
        for (var i = 0; i < tiersAboveEntry; i++)
        {
            var share = tiersAboveEntry == 1 ? 0.5 : 0.5 + (0.45 * i / (tiersAboveEntry - 1));
            if (Quantile(spend12, share, buyersOnly: true) is { } bound)
            {
                suggested.Add(Math.Max(bound, suggested.Count > 0 ? suggested[^1] : 0));
            }
        }

        return suggested;
    }

    /// <summary>JSON for storage.</summary>
    public string ToJson() => JsonSerializer.Serialize(this);

    /// <summary>Figures read from storage.</summary>
    public static ProgrammeHealth Parse(string json) => JsonSerializer.Deserialize<ProgrammeHealth>(json) ?? new ProgrammeHealth();

    private static long SpendOver(MemberStats stats, DateOnly today, int months)
    {
        var first = new DateOnly(today.Year, today.Month, 1).AddMonths(1 - months).ToString("yyyy-MM", CultureInfo.InvariantCulture);
        return stats.Months.Where(m => string.CompareOrdinal(m.Key, first) >= 0).Sum(m => m.Value[0]);
    }

    private static void Count(SortedDictionary<long, long> histogram, long bucket, long n = 1) =>
        histogram[bucket] = histogram.GetValueOrDefault(bucket) + n;
}
