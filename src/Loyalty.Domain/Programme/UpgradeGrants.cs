using System.Text.Json;

namespace Loyalty.Domain.Programme;

/// <summary>One upgrade gift pack as it was granted: the tier it came with, its points and its coupon codes.</summary>
/// <param name="Tier">The tier whose upgrade granted it.</param>
/// <param name="GiftPackId">The pack.</param>
/// <param name="Points">Points the pack granted.</param>
/// <param name="Coupons">Codes of the coupons the pack granted.</param>
public sealed record UpgradeGrant(string Tier, string GiftPackId, long Points, IReadOnlyList<string> Coupons);

/// <summary>
/// The upgrade packs a member holds for the tiers held now, kept on the account row so that a refund that takes a tier
/// back (tier policy <c>takeBackUnusedGift</c>) knows what that tier's pack granted. A grant is dropped when its tier
/// is left, or replaced when the same tier is reached again.
/// </summary>
public sealed class UpgradeGrants
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private UpgradeGrants(IReadOnlyList<UpgradeGrant> items) => Items = items;

    /// <summary>The grants, oldest first.</summary>
    public IReadOnlyList<UpgradeGrant> Items { get; }

    /// <summary>Reads the stored JSON; none when null or empty.</summary>
    public static UpgradeGrants Parse(string? json) =>
        new(string.IsNullOrEmpty(json) ? [] : JsonSerializer.Deserialize<List<UpgradeGrant>>(json, Json) ?? []);

    /// <summary>The JSON to store.</summary>
    public string ToJson() => JsonSerializer.Serialize(Items, Json);

    /// <summary>With <paramref name="grant"/> added; an earlier grant of its tier or of a higher one is replaced (the member left them since).</summary>
    public UpgradeGrants With(UpgradeGrant grant, IReadOnlyList<TierRule> tiers)
    {
        ArgumentNullException.ThrowIfNull(grant);
        var rank = TierProgress.IndexOf(tiers, grant.Tier);
        return new([.. Items.Where(g => TierProgress.IndexOf(tiers, g.Tier) < rank), grant]);
    }

    /// <summary>Splits the grants at <paramref name="tier"/>: those of higher tiers (left when the member goes down to it) and the rest.</summary>
    public (IReadOnlyList<UpgradeGrant> Above, UpgradeGrants Kept) SplitAbove(string tier, IReadOnlyList<TierRule> tiers)
    {
        var rank = TierProgress.IndexOf(tiers, tier);
        return ([.. Items.Where(g => TierProgress.IndexOf(tiers, g.Tier) > rank)], new([.. Items.Where(g => TierProgress.IndexOf(tiers, g.Tier) <= rank)]));
    }
}
