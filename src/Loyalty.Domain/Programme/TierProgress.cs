using System.Globalization;
using System.Text.Json;

namespace Loyalty.Domain.Programme;

/// <summary>What counts toward a tier.</summary>
public enum TierBasis
{
    /// <summary>What the member paid (net of discounts, coupons and points), in fen.</summary>
    QualifyingSpend,
    /// <summary>Number of purchases.</summary>
    Purchases,
    /// <summary>Points earned by purchases.</summary>
    PointsEarned,
    /// <summary>Stored-value principal topped up, in fen (充值会员).</summary>
    TopUp,
}

/// <summary>Over which period progress counts.</summary>
public enum TierPeriod
{
    /// <summary>The current month and the eleven before it.</summary>
    Rolling12Months,
    /// <summary>The current calendar year.</summary>
    CalendarYear,
}

/// <summary>The tier policy (<c>/api/config/tier-policy</c>): what counts toward tiers and over which period.</summary>
/// <param name="Basis">What counts.</param>
/// <param name="Period">Over which period.</param>
public sealed record TierPolicy(TierBasis Basis = TierBasis.QualifyingSpend, TierPeriod Period = TierPeriod.Rolling12Months)
{
    /// <summary>Qualifying spend over a rolling 12 months.</summary>
    public static TierPolicy Default { get; } = new();

    /// <summary>What a purchase adds to the progress.</summary>
    public long ForPurchase(long paid, long pointsEarned) => Basis switch
    {
        TierBasis.QualifyingSpend => paid,
        TierBasis.Purchases => 1,
        TierBasis.PointsEarned => pointsEarned,
        _ => 0,
    };
}

/// <summary>
/// A member's tier progress: amounts by month (chain time zone), kept for the last 12 months. Stored on the account
/// row so that the purchase that crosses a threshold upgrades the member in its own transaction.
/// </summary>
public sealed class TierProgress
{
    private readonly SortedDictionary<string, long> _months;

    private TierProgress(SortedDictionary<string, long> months) => _months = months;

    /// <summary>Amounts by month (<c>yyyy-MM</c>).</summary>
    public IReadOnlyDictionary<string, long> Months => _months;

    /// <summary>Reads stored progress (null or empty: none).</summary>
    public static TierProgress Parse(string? json) => new(string.IsNullOrEmpty(json)
        ? new SortedDictionary<string, long>(StringComparer.Ordinal)
        : new SortedDictionary<string, long>(JsonSerializer.Deserialize<Dictionary<string, long>>(json) ?? [], StringComparer.Ordinal));

    /// <summary>The progress with <paramref name="amount"/> added in <paramref name="month"/> (negative for refunds), older months dropped.</summary>
    public TierProgress Add(DateOnly month, long amount)
    {
        var months = new SortedDictionary<string, long>(_months, StringComparer.Ordinal);
        var key = Key(month);
        months[key] = months.GetValueOrDefault(key) + amount;
        foreach (var old in months.Keys.Where(k => string.CompareOrdinal(k, Key(month.AddMonths(-11))) < 0).ToList())
        {
            months.Remove(old);
        }

        return new TierProgress(months);
    }

    /// <summary>The total that counts at <paramref name="today"/> under <paramref name="period"/> (never below zero).</summary>
    public long Total(DateOnly today, TierPeriod period)
    {
        var from = period == TierPeriod.CalendarYear ? new DateOnly(today.Year, 1, 1) : today.AddMonths(-11);
        var sum = _months.Where(m => string.CompareOrdinal(m.Key, Key(from)) >= 0 && string.CompareOrdinal(m.Key, Key(today)) <= 0).Sum(m => m.Value);
        return Math.Max(0, sum);
    }

    /// <summary>JSON for storage.</summary>
    public string ToJson() => JsonSerializer.Serialize(_months);

    /// <summary>
    /// The tier a member in <paramref name="current"/> reaches with <paramref name="total"/>: the highest tier whose
    /// threshold is met, never below the current one (tiers only go down at period end).
    /// </summary>
    public static TierRule Reached(IReadOnlyList<TierRule> tiers, string current, long total)
    {
        ArgumentNullException.ThrowIfNull(tiers);
        var currentIndex = Math.Max(0, tiers.ToList().FindIndex(t => t.Code == current));
        var reached = tiers.Select((t, i) => (t, i)).Where(x => x.t.Threshold <= total).Select(x => x.i).DefaultIfEmpty(0).Max();
        return tiers[Math.Max(currentIndex, reached)];
    }

    private static string Key(DateOnly month) => month.ToString("yyyy-MM", CultureInfo.InvariantCulture);
}
