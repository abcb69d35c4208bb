using Loyalty.Domain.Common;

namespace Loyalty.Domain.Programme;

/// <summary>Checks each part of the programme configuration before it is stored.</summary>
public static class ProgrammeValidation
{
    /// <summary>Validates earning rules.</summary>
    public static DomainError? Check(EarningRules rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        if (rules.PointsPerYuan is < 0 or > 100)
        {
            return Invalid("pointsPerYuan", "pointsPerYuan is 0-100.");
        }

        if (rules.OffsetPointsPerYuan is < 1 or > 100_000)
        {
            return Invalid("offsetPointsPerYuan", "offsetPointsPerYuan is 1-100000.");
        }

        if (rules.MaxOffsetPercent is < 0 or > 100)
        {
            return Invalid("maxOffsetPercent", "maxOffsetPercent is 0-100.");
        }

        if (rules.ExcludedCategories is null || rules.ExcludedCategories.Any(string.IsNullOrWhiteSpace) || (rules.ExcludedSkus ?? []).Any(string.IsNullOrWhiteSpace))
        {
            return Invalid("excludedCategories", "excludedCategories and excludedSkus are lists of names.");
        }

        foreach (var (field, list) in new[] { ("categoryMultipliers", rules.CategoryMultipliers), ("skuMultipliers", rules.SkuMultipliers) })
        {
            if ((list ?? []).Any(m => string.IsNullOrWhiteSpace(m.Key) || m.MultiplierPercent is < 0 or > 1_000)
                || (list ?? []).Select(m => m.Key.ToUpperInvariant()).Distinct().Count() != (list ?? []).Count)
            {
                return Invalid(field, $"{field}: each key once, multiplierPercent 0-1000.");
            }
        }

        if (rules.MinimumOrder < 0 || rules.CapPerTransaction is < 0 || rules.CheckInPoints is < 0 or > 10_000)
        {
            return Invalid("minimumOrder", "minimumOrder and capPerTransaction cannot be negative; checkInPoints is 0-10000.");
        }

        return (rules.ScopeRates ?? []).Any(r => r.PointsPerYuan is < 0 or > 100) || (rules.ScopeRates ?? []).Select(r => r.ScopeId).Distinct().Count() != (rules.ScopeRates ?? []).Count
            ? Invalid("scopeRates", "scopeRates: each region or store once, pointsPerYuan 0-100.")
            : null;
    }

    /// <summary>Validates earning rules against the org tree: scope rates name regions or stores.</summary>
    public static DomainError? Check(EarningRules rules, Org.OrgTree org)
    {
        ArgumentNullException.ThrowIfNull(org);
        return Check(rules) ?? ((rules.ScopeRates ?? []).FirstOrDefault(r => org.Find(r.ScopeId) is not { Kind: Org.OrgNodeKind.Region or Org.OrgNodeKind.Store }) is { } unknown
            ? Invalid("scopeRates", $"No region or store '{unknown.ScopeId}' in the org tree.")
            : null);
    }

    /// <summary>Validates tiers: 3 to 7, unique codes, sensible rates, thresholds rising from 0.</summary>
    public static DomainError? Check(IReadOnlyList<TierRule> tiers)
    {
        if (tiers is null || tiers.Count is < 3 or > 7)
        {
            return Invalid("tiers", "Configure 3 to 7 tiers, entry tier first.");
        }

        if (tiers.Select(t => t.Code).Distinct(StringComparer.Ordinal).Count() != tiers.Count)
        {
            return Invalid("code", "Tier codes must be unique.");
        }

        foreach (var t in tiers)
        {
            if (string.IsNullOrWhiteSpace(t.Code) || t.Code.Length > 30 || string.IsNullOrWhiteSpace(t.Name))
            {
                return Invalid("code", "Each tier needs a code (up to 30 characters) and a name.");
            }

            if (t.PricePercent is < 1_000 or > 10_000)
            {
                return Invalid("pricePercent", $"Tier '{t.Code}': pricePercent is 1000-10000 (hundredths of a percent).");
            }

            if (t.PointsMultiplierPercent is < 0 or > 1_000)
            {
                return Invalid("pointsMultiplierPercent", $"Tier '{t.Code}': pointsMultiplierPercent is 0-1000.");
            }

            if ((t.Benefits ?? []).Any(b => string.IsNullOrWhiteSpace(b) || b.Length > 100))
            {
                return Invalid("benefits", $"Tier '{t.Code}': benefits are texts of up to 100 characters.");
            }
        }

        if (tiers[0].Threshold != 0)
        {
            return Invalid("threshold", "The entry tier (first) has threshold 0.");
        }

        for (var i = 1; i < tiers.Count; i++)
        {
            if (tiers[i].Threshold <= tiers[i - 1].Threshold)
            {
                return Invalid("threshold", $"Tier '{tiers[i].Code}': thresholds rise strictly from tier to tier (overlaps with '{tiers[i - 1].Code}').");
            }
        }

        return null;
    }

    /// <summary>Validates member days.</summary>
    public static DomainError? Check(IReadOnlyList<MemberDayRule> days)
    {
        if (days is null || days.Count > 50 || days.Any(d => d.DayOfMonth is < 1 or > 31 || d.MultiplierPercent is < 100 or > 1_000))
        {
            return Invalid("memberDays", "Up to 50 member days, each with dayOfMonth 1-31 (or weekdays) and multiplierPercent 100-1000.");
        }

        if (days.Any(d => d.DayOfMonth is null && d.Weekdays is not { Count: > 0 }))
        {
            return Invalid("dayOfMonth", "Each member day names a day of the month, days of the week, or both.");
        }

        return days.Any(d => d.FromHour is < 0 or > 23 || d.ToHour is < 1 or > 24 || (d.FromHour ?? 0) >= (d.ToHour ?? 24))
            ? Invalid("fromHour", "Hours: 0 <= fromHour < toHour <= 24.")
            : null;
    }

    /// <summary>Validates top-up rules.</summary>
    public static DomainError? Check(TopUpRules rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        if (rules.MinAmount < 1 || rules.MaxAmount < rules.MinAmount)
        {
            return Invalid("minAmount", "0 < minAmount <= maxAmount.");
        }

        if (rules.Bands is null || rules.Bands.Any(b => b.MinAmount < 1 || b.Bonus < 0 || b.Bonus > b.MinAmount))
        {
            return Invalid("bands", "Each band has minAmount > 0 and 0 <= bonus <= minAmount.");
        }

        if (rules.Bands.Any(b => b.ValidFrom is { } from && b.ValidTo is { } to && to < from))
        {
            return Invalid("validTo", "A band's validTo is not before its validFrom.");
        }

        return rules.AllowedStores is null || rules.AllowedPrincipals is null
            ? Invalid("allowedStores", "allowedStores and allowedPrincipals are lists (empty means anyone).")
            : null;
    }

    /// <summary>Validates top-up rules against the org tree: band stores and designated stores must exist.</summary>
    public static DomainError? Check(TopUpRules rules, Org.OrgTree org)
    {
        ArgumentNullException.ThrowIfNull(org);
        if (Check(rules) is { } error)
        {
            return error;
        }

        if (rules.Bands.SelectMany(b => b.Stores ?? []).FirstOrDefault(s => org.Find(s) is null) is { } unknown)
        {
            return Invalid("stores", $"A band names '{unknown}', which is no store or region.");
        }

        return rules.AllowedStores.FirstOrDefault(s => org.FindStore(s) is null) is { } store
            ? Invalid("allowedStores", $"No store '{store}' in the org tree.")
            : null;
    }

    /// <summary>Validates the reward catalogue.</summary>
    public static DomainError? Check(IReadOnlyList<Reward> rewards)
    {
        if (rewards is null || rewards.Any(r => string.IsNullOrWhiteSpace(r.RewardId) || string.IsNullOrWhiteSpace(r.Name) || r.Points < 1))
        {
            return Invalid("rewards", "Each reward has a rewardId, a name and a points price of at least 1.");
        }

        return rewards.Select(r => r.RewardId).Distinct(StringComparer.Ordinal).Count() == rewards.Count ? null : Invalid("rewardId", "Reward ids are unique.");
    }

    /// <summary>Validates adjustment limits.</summary>
    public static DomainError? Check(AdjustmentAuthority authority)
    {
        ArgumentNullException.ThrowIfNull(authority);
        return authority.MaxPoints is null || authority.MaxPoints.Values.Any(v => v < 0)
            ? Invalid("maxPoints", "Limits are non-negative point amounts per role.")
            : null;
    }

    private static DomainError Invalid(string field, string message) => DomainError.Invalid("config_invalid", field, message);
}
