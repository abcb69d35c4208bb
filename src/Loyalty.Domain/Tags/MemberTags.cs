using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Loyalty.Domain.Common;

namespace Loyalty.Domain.Tags;

/// <summary>What an automatic tag looks at.</summary>
public enum TagKind
{
    /// <summary>Spend (fen) over the last 12 months at least <c>value</c>.</summary>
    SpendAtLeast,
    /// <summary>Purchases over the last 12 months at least <c>value</c>.</summary>
    PurchasesAtLeast,
    /// <summary>Average ticket (fen) over the last 12 months at least <c>value</c>.</summary>
    AverageTicketAtLeast,
    /// <summary>A purchase within the last <c>value</c> days.</summary>
    PurchasedWithinDays,
    /// <summary>The category with the most spend is <c>category</c>.</summary>
    PreferredCategory,
    /// <summary>The member is in tier <c>tier</c>.</summary>
    Tier,
}

/// <summary>An automatic tag (会员标签) and its condition (<c>/api/config/tag-rules</c>).</summary>
public sealed record TagRule(string Tag, TagKind Kind, long? Value = null, string? Category = null, string? Tier = null);

/// <summary>
/// What a member's purchases add up to, kept on the account row and updated in the purchase's own transaction: spend
/// and purchases by month (13 months), spend by category, and the day of the last purchase.
/// </summary>
public sealed class MemberStats
{
    /// <summary>Spend and purchases by month (<c>yyyy-MM</c>: [spend, purchases]).</summary>
    [JsonPropertyName("m")]
    public SortedDictionary<string, long[]> Months { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Spend by category (the 30 largest).</summary>
    [JsonPropertyName("c")]
    public Dictionary<string, long> Categories { get; init; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Day of the last purchase (<c>yyyy-MM-dd</c>).</summary>
    [JsonPropertyName("l")]
    public string? LastPurchase { get; init; }

    /// <summary>Reads stored stats (null or empty: none).</summary>
    public static MemberStats Parse(string? json) => string.IsNullOrEmpty(json) ? new MemberStats() : JsonSerializer.Deserialize<MemberStats>(json) ?? new MemberStats();

    /// <summary>JSON for storage.</summary>
    public string ToJson() => JsonSerializer.Serialize(this);

    /// <summary>The stats after a purchase of <paramref name="spend"/> on <paramref name="day"/>, by category.</summary>
    public MemberStats WithPurchase(DateOnly day, long spend, IEnumerable<(string Category, long Spend)> byCategory) =>
        With(day, spend, 1, byCategory, day);

    /// <summary>The stats after a refund of <paramref name="amount"/> on <paramref name="day"/>.</summary>
    public MemberStats WithRefund(DateOnly day, long amount, IEnumerable<(string Category, long Spend)> byCategory) =>
        With(day, -amount, 0, byCategory.Select(c => (c.Category, -c.Spend)), null);

    /// <summary>Spend over the 12 months up to <paramref name="today"/>.</summary>
    public long Spend12(DateOnly today) => Window(today).Sum(m => m[0]);

    /// <summary>Purchases over the 12 months up to <paramref name="today"/>.</summary>
    public long Purchases12(DateOnly today) => Window(today).Sum(m => m[1]);

    /// <summary>The category with the most spend, if any has spend.</summary>
    public string? PreferredCategory => Categories.Where(c => c.Value > 0).OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).Select(c => c.Key).FirstOrDefault();

    private IEnumerable<long[]> Window(DateOnly today)
    {
        var from = Key(today.AddMonths(-11));
        var to = Key(today);
        return Months.Where(m => string.CompareOrdinal(m.Key, from) >= 0 && string.CompareOrdinal(m.Key, to) <= 0).Select(m => m.Value);
    }

    private MemberStats With(DateOnly day, long spend, long purchases, IEnumerable<(string Category, long Spend)> byCategory, DateOnly? purchaseDay)
    {
        var months = new SortedDictionary<string, long[]>(Months.ToDictionary(m => m.Key, m => (long[])m.Value.Clone()), StringComparer.Ordinal);
        var key = Key(day);
        var month = months.TryGetValue(key, out var existing) ? existing : [0, 0];
        months[key] = [month[0] + spend, month[1] + purchases];
        foreach (var old in months.Keys.Where(k => string.CompareOrdinal(k, Key(day.AddMonths(-12))) < 0).ToList())
        {
            months.Remove(old);
        }

        var categories = new Dictionary<string, long>(Categories, StringComparer.OrdinalIgnoreCase);
        foreach (var (category, amount) in byCategory)
        {
            categories[category] = categories.GetValueOrDefault(category) + amount;
        }

        // Keep the 30 largest categories, so the row stays small.
        var kept = categories.OrderByDescending(c => c.Value).Take(30).ToDictionary(c => c.Key, c => c.Value, StringComparer.OrdinalIgnoreCase);
        var last = purchaseDay is { } d && string.CompareOrdinal(d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), LastPurchase ?? string.Empty) > 0
            ? d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)
            : LastPurchase;
        return new MemberStats { Months = months, Categories = kept, LastPurchase = last };
    }

    private static string Key(DateOnly day) => day.ToString("yyyy-MM", CultureInfo.InvariantCulture);
}

/// <summary>Evaluates tag rules and checks tag names.</summary>
public static partial class TagRules
{
    /// <summary>Most tags a member may carry by hand.</summary>
    public const int MaxManualTags = 20;

    /// <summary>The automatic tags of a member on <paramref name="today"/>.</summary>
    public static IReadOnlyList<string> Evaluate(IReadOnlyList<TagRule> rules, MemberStats stats, string tier, DateOnly today)
    {
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(stats);
        var purchases = stats.Purchases12(today);
        return [.. rules.Where(r => r.Kind switch
        {
            TagKind.SpendAtLeast => stats.Spend12(today) >= r.Value,
            TagKind.PurchasesAtLeast => purchases >= r.Value,
            TagKind.AverageTicketAtLeast => purchases > 0 && stats.Spend12(today) / purchases >= r.Value,
            TagKind.PurchasedWithinDays => stats.LastPurchase is { } last && today.DayNumber - DateOnly.ParseExact(last, "yyyy-MM-dd", CultureInfo.InvariantCulture).DayNumber <= r.Value,
            TagKind.PreferredCategory => string.Equals(stats.PreferredCategory, r.Category, StringComparison.OrdinalIgnoreCase),
            TagKind.Tier => tier == r.Tier,
            _ => false,
        }).Select(r => r.Tag).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
    }

    /// <summary>Whether <paramref name="tag"/> is a valid tag name: 1-32 letters (any script), digits, '-' or '_'.</summary>
    public static bool IsValidName(string? tag) => tag is not null && NamePattern().IsMatch(tag);

    /// <summary>Validates the tag rules against the tier codes.</summary>
    public static DomainError? Check(IReadOnlyList<TagRule> rules, IReadOnlyCollection<string> tiers)
    {
        ArgumentNullException.ThrowIfNull(tiers);
        if (rules is null || rules.Count > 100)
        {
            return DomainError.Invalid("config_invalid", "tagRules", "Up to 100 tag rules.");
        }

        foreach (var r in rules)
        {
            if (!IsValidName(r.Tag))
            {
                return DomainError.Invalid("config_invalid", "tag", "A tag is 1-32 letters, digits, '-' or '_'.");
            }

            var needsValue = r.Kind is TagKind.SpendAtLeast or TagKind.PurchasesAtLeast or TagKind.AverageTicketAtLeast or TagKind.PurchasedWithinDays;
            if (needsValue && r.Value is not (>= 1 and <= 10_000_000_000))
            {
                return DomainError.Invalid("config_invalid", "value", $"Tag '{r.Tag}': {r.Kind} needs a positive value.");
            }

            if (r.Kind == TagKind.PreferredCategory && string.IsNullOrWhiteSpace(r.Category))
            {
                return DomainError.Invalid("config_invalid", "category", $"Tag '{r.Tag}': preferredCategory needs a category.");
            }

            if (r.Kind == TagKind.Tier && (r.Tier is null || !tiers.Contains(r.Tier)))
            {
                return DomainError.Invalid("config_invalid", "tier", $"Tag '{r.Tag}': no tier '{r.Tier}'.");
            }
        }

        return null;
    }

    /// <summary>Splits a stored tag list.</summary>
    public static IReadOnlyList<string> Split(string? stored) => string.IsNullOrEmpty(stored) ? [] : stored.Split(',');

    /// <summary>Joins tags for storage (sorted, distinct).</summary>
    public static string Join(IEnumerable<string> tags) => string.Join(',', tags.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));

    [GeneratedRegex(@"^[\p{L}\p{N}_-]{1,32}$")]
    private static partial Regex NamePattern();
}
