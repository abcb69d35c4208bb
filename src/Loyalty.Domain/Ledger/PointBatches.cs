using System.Globalization;
using System.Text.Json;

namespace Loyalty.Domain.Ledger;

/// <summary>
/// The points-expiry policy (<c>/api/config/points-expiry</c>): points earned in a month expire at the end of the
/// <paramref name="Months"/>-th month counting that one (12: earned in January 2026, gone after 31 December 2026), and
/// members are reminded <paramref name="ReminderDays"/> days before.
/// </summary>
public sealed record PointsExpiryPolicy(bool Enabled = true, int Months = 12, int ReminderDays = 7)
{
    /// <summary>Twelve months, a reminder a week ahead.</summary>
    public static PointsExpiryPolicy Default { get; } = new();

    /// <summary>The last day on which points earned in <paramref name="month"/> can be used.</summary>
    public DateOnly LastDay(DateOnly month) => new DateOnly(month.Year, month.Month, 1).AddMonths(Months).AddDays(-1);

    /// <summary>The latest earning month whose points have expired by <paramref name="today"/>.</summary>
    public DateOnly ExpiredThrough(DateOnly today) => new DateOnly(today.Year, today.Month, 1).AddMonths(-Months);
}

/// <summary>
/// A member's points by earning month (the batches), oldest first, kept on the account row next to the balance. The
/// batches always add up to the points balance when it is positive (and are empty while it is negative). Earning adds
/// to the current month after repaying any debt; spending, claw-backs and expiry take from the oldest month first.
/// </summary>
public sealed class PointBatches
{
    private readonly SortedDictionary<string, long> _months;

    private PointBatches(SortedDictionary<string, long> months) => _months = months;

    /// <summary>Amounts by earning month (<c>yyyy-MM</c>), oldest first.</summary>
    public IReadOnlyDictionary<string, long> Months => _months;

    /// <summary>Total of the batches.</summary>
    public long Total => _months.Values.Sum();

    /// <summary>
    /// Reads stored batches. An account from before batches were kept (points but no batches) is treated as one
    /// batch earned in <paramref name="legacyMonth"/>.
    /// </summary>
    public static PointBatches Parse(string? json, long points, DateOnly legacyMonth)
    {
        var months = string.IsNullOrEmpty(json)
            ? new SortedDictionary<string, long>(StringComparer.Ordinal)
            : new SortedDictionary<string, long>(JsonSerializer.Deserialize<Dictionary<string, long>>(json) ?? [], StringComparer.Ordinal);
        if (months.Count == 0 && points > 0)
        {
            months[Key(legacyMonth)] = points;
        }

        return new PointBatches(months);
    }

    /// <summary>
    /// The batches after a change: <paramref name="spent"/> points taken oldest first (debt if they run out), then
    /// <paramref name="earned"/> added in <paramref name="month"/> after repaying debt. <paramref name="pointsBefore"/>
    /// is the balance before the change.
    /// </summary>
    public PointBatches Apply(long pointsBefore, long earned, long spent, DateOnly month)
    {
        var months = new SortedDictionary<string, long>(_months, StringComparer.Ordinal);
        var take = spent;
        foreach (var key in months.Keys.ToList())
        {
            if (take == 0)
            {
                break;
            }

            var used = Math.Min(take, months[key]);
            months[key] -= used;
            take -= used;
            if (months[key] == 0)
            {
                months.Remove(key);
            }
        }

        var debt = Math.Max(0, -(pointsBefore - spent));
        var credit = Math.Max(0, earned - debt);
        if (credit > 0)
        {
            months[Key(month)] = months.GetValueOrDefault(Key(month)) + credit;
        }

        return new PointBatches(months);
    }

    /// <summary>Points of the batches earned in <paramref name="through"/> or before.</summary>
    public long EarnedThrough(DateOnly through) => _months.Where(m => string.CompareOrdinal(m.Key, Key(through)) <= 0).Sum(m => m.Value);

    /// <summary>The oldest batch: its month and amount; null when there are none.</summary>
    public (DateOnly Month, long Points)? Oldest => _months.Count == 0
        ? null
        : (DateOnly.ParseExact(_months.Keys.First() + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture), _months.Values.First());

    /// <summary>Whether <paramref name="month"/> has a batch.</summary>
    public bool Has(DateOnly month) => _months.ContainsKey(Key(month));

    /// <summary>JSON for storage.</summary>
    public string ToJson() => JsonSerializer.Serialize(_months);

    /// <summary>The key of a month.</summary>
    public static string Key(DateOnly month) => month.ToString("yyyy-MM", CultureInfo.InvariantCulture);
}
