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

/// <summary>When a new member enters the first tier.</summary>
public enum TierEntry
{
    /// <summary>At enrolment.</summary>
    Enrolment,
    /// <summary>At the first purchase (until then the member has no tier and is priced as the entry tier).</summary>
    FirstPurchase,
}

/// <summary>The tier policy (<c>/api/config/tier-policy</c>): what counts toward tiers, over which period, and how tiers go down.</summary>
/// <param name="Basis">What counts.</param>
/// <param name="Period">Over which period.</param>
/// <param name="Downgrade">Whether members drop to the tier their progress supports at each period end.</param>
/// <param name="GraceDays">Days after the period end before the drop takes effect.</param>
/// <param name="EntryOn">When a new member enters the first tier.</param>
/// <param name="StartingProgress">Progress a new member starts with (a "pre-stamped card").</param>
/// <param name="ReverseOnRefund">
/// Whether a refund that takes the progress below the member's tier moves the member down at once, when that tier was
/// reached in the current period (this calendar year, or the last 12 months for a rolling window); never below a
/// manually granted floor. Off by default: refunds never lower the tier.
/// </param>
/// <param name="TakeBackUnusedGift">
/// With <paramref name="ReverseOnRefund"/>: when a refund moves the member down, the unused part of the upgrade packs
/// of the tiers left is taken back in the refund's transaction (coupons still unused are revoked; the pack's points
/// are taken back as far as the balance allows). Off by default: the pack stays granted.
/// </param>
public sealed record TierPolicy(
    TierBasis Basis = TierBasis.QualifyingSpend,
    TierPeriod Period = TierPeriod.Rolling12Months,
    bool Downgrade = false,
    int GraceDays = 0,
    TierEntry EntryOn = TierEntry.Enrolment,
    long StartingProgress = 0,
    bool ReverseOnRefund = false,
    bool TakeBackUnusedGift = false)
{
    /// <summary>True when a tier reached on <paramref name="since"/> was reached in the period in force on <paramref name="today"/>.</summary>
    public bool ReachedThisPeriod(DateOnly since, DateOnly today) =>
        since >= (Period == TierPeriod.CalendarYear ? new DateOnly(today.Year, 1, 1) : today.AddMonths(-12));

    /// <summary>Qualifying spend over a rolling 12 months; no downgrades; entry at enrolment.</summary>
    public static TierPolicy Default { get; } = new();

    /// <summary>
    /// The start of the period in force on <paramref name="today"/> (the first of the month for a rolling window, the
    /// first of January for a calendar year) and its key; the previous period ended the day before.
    /// </summary>
    public (DateOnly Start, string Key) PeriodOf(DateOnly today) => Period == TierPeriod.CalendarYear
        ? (new DateOnly(today.Year, 1, 1), today.Year.ToString(CultureInfo.InvariantCulture))
        : (new DateOnly(today.Year, today.Month, 1), today.ToString("yyyy-MM", CultureInfo.InvariantCulture));

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
        // Thirteen months are kept, so that the twelve months before a period end can still be counted after it.
        foreach (var old in months.Keys.Where(k => string.CompareOrdinal(k, Key(month.AddMonths(-12))) < 0).ToList())
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
    /// threshold is met, never below the current one (tiers only go down at period end). A member without a tier (entry
    /// at first purchase) reaches at least the first.
    /// </summary>
    public static TierRule Reached(IReadOnlyList<TierRule> tiers, string current, long total)
    {
        ArgumentNullException.ThrowIfNull(tiers);
        return tiers[Math.Max(IndexOf(tiers, current), Supported(tiers, total))];
    }

    /// <summary>The index of the highest tier whose threshold <paramref name="total"/> meets.</summary>
    public static int Supported(IReadOnlyList<TierRule> tiers, long total)
    {
        ArgumentNullException.ThrowIfNull(tiers);
        return tiers.Select((t, i) => (t, i)).Where(x => x.t.Threshold <= total).Select(x => x.i).DefaultIfEmpty(0).Max();
    }

    /// <summary>The index of a tier code, -1 when the member has none (or an unknown one).</summary>
    public static int IndexOf(IReadOnlyList<TierRule> tiers, string? code)
    {
        ArgumentNullException.ThrowIfNull(tiers);
        return tiers.ToList().FindIndex(t => t.Code == code);
    }

    /// <summary>
    /// The tier after the period-end evaluation: the tier the progress supports, never below <paramref name="floor"/>
    /// (a manually granted tier) and never above the current one.
    /// </summary>
    public static TierRule AfterPeriodEnd(IReadOnlyList<TierRule> tiers, string current, string? floor, long total)
    {
        ArgumentNullException.ThrowIfNull(tiers);
        var currentIndex = Math.Max(0, IndexOf(tiers, current));
        return tiers[Math.Min(currentIndex, Math.Max(Supported(tiers, total), IndexOf(tiers, floor)))];
    }

    private static string Key(DateOnly month) => month.ToString("yyyy-MM", CultureInfo.InvariantCulture);
}
