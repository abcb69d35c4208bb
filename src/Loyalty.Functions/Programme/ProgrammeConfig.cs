using System.Globalization;
using System.Text.Json;
using Loyalty.Domain.Auth;
using Loyalty.Domain.Common;
using Loyalty.Domain.Coupons;
using Loyalty.Domain.Org;
using Loyalty.Domain.Programme;
using Loyalty.Storage.Config;

namespace Loyalty.Functions.Programme;

/// <summary>
/// The programme's configuration sections (<c>/api/config/{section}</c>) and the snapshot of all of them that
/// pricing uses. The snapshot's version names each section's version, and is written on every ledger entry.
/// </summary>
internal sealed class ProgrammeConfig(ConfigStore config)
{
    public static readonly IReadOnlyDictionary<string, ISection> Sections = new Dictionary<string, ISection>(StringComparer.Ordinal)
    {
        ["earning-rules"] = new Section<EarningRules>(EarningRules.Default, (v, c) => ProgrammeValidation.Check(v, c.Org)),
        ["tiers"] = new Section<IReadOnlyList<TierRule>>(ProgrammeRules.DefaultTiers, (v, c) => ProgrammeValidation.Check(v) ?? CheckTierPacks(v, c.GiftPacks)),
        [TierPolicySection] = new Section<TierPolicy>(TierPolicy.Default, (v, _) => v.GraceDays is < 0 or > 365 || v.StartingProgress < 0
            ? DomainError.Invalid("config_invalid", "graceDays", "graceDays is 0-365 and startingProgress is not negative.")
            : v.TakeBackUnusedGift && !v.ReverseOnRefund
                ? DomainError.Invalid("config_invalid", "takeBackUnusedGift", "takeBackUnusedGift applies only when refunds can take a tier back (reverseOnRefund).")
                : null),
        [Tags.MemberTagging.Section] = new Section<IReadOnlyList<Domain.Tags.TagRule>>([], (v, c) => Tags.MemberTagging.Check(v, c.Tiers)),
        [PaidMembershipSection] = new Section<PaidMembershipRules>(PaidMembershipRules.Default, (v, c) => v.Check(c.Tiers)),
        [ScopeRatesApi.PolicySection] = new Section<OverridePolicy>(OverridePolicy.Default, (_, _) => null),
        [PointsExpirySection] = new Section<Domain.Ledger.PointsExpiryPolicy>(Domain.Ledger.PointsExpiryPolicy.Default, (v, _) => v.Months is < 1 or > 60 || v.ReminderDays is < 0 or > 60
            ? DomainError.Invalid("config_invalid", "months", "months is 1-60 and reminderDays 0-60.")
            : null),
        ["member-days"] = new Section<IReadOnlyList<MemberDayRule>>(ProgrammeRules.DefaultMemberDays, (v, _) => ProgrammeValidation.Check(v)),
        ["top-up-bonuses"] = new Section<TopUpRules>(TopUpRules.Default, (v, c) => ProgrammeValidation.Check(v, c.Org)),
        ["stored-value"] = new Section<StoredValueRules>(StoredValueRules.Default, (_, _) => null),
        ["rewards"] = new Section<IReadOnlyList<Reward>>(ProgrammeRules.DefaultRewards, (v, _) => ProgrammeValidation.Check(v)),
        ["adjustment-authority"] = new Section<AdjustmentAuthority>(AdjustmentAuthority.Default, (v, _) => ProgrammeValidation.Check(v)),
        [Approvals.ApprovalRequests.PolicySection] = new Section<Domain.Approvals.ApprovalPolicy>(Domain.Approvals.ApprovalPolicy.Default, (v, _) => v.Check()),
        [Campaigns.BirthdayCare.Section] = new Section<Campaigns.BirthdayCare>(Campaigns.BirthdayCare.Default, (v, c) => v.ReminderDaysAhead is < 1 or > 30
            ? DomainError.Invalid("config_invalid", "reminderDaysAhead", "reminderDaysAhead is 1-30 days.")
            : v.AnniversaryGiftPack is { } pack && c.GiftPacks.Find(pack) is null
                ? DomainError.Invalid("config_invalid", "anniversaryGiftPack", $"No gift pack '{pack}'.")
                : null),
        [CouponTemplatesSection] = new Section<IReadOnlyList<CouponTemplate>>([], CheckTemplates),
        [GiftPacksSection] = new Section<GiftPackRules>(GiftPackRules.Default, (v, c) => CouponValidation.Check(v, c.CouponTemplates) ?? CheckTierPacks(c.Tiers, v)),
    };

    /// <summary>Name of the paid-membership section.</summary>
    public const string PaidMembershipSection = "paid-membership";

    /// <summary>The paid membership plans on sale.</summary>
    public async Task<PaidMembershipRules> GetPaidMembershipAsync(CancellationToken cancellationToken) =>
        (await config.GetAsync(PaidMembershipSection, PaidMembershipRules.Default, cancellationToken)).Value;

    /// <summary>Name of the points-expiry section.</summary>
    public const string PointsExpirySection = "points-expiry";

    /// <summary>The points-expiry policy in force.</summary>
    public async Task<Domain.Ledger.PointsExpiryPolicy> GetPointsExpiryAsync(CancellationToken cancellationToken) =>
        (await config.GetAsync(PointsExpirySection, Domain.Ledger.PointsExpiryPolicy.Default, cancellationToken)).Value;

    /// <summary>Name of the tier policy section.</summary>
    public const string TierPolicySection = "tier-policy";

    /// <summary>Name of the coupon templates section.</summary>
    public const string CouponTemplatesSection = "coupon-templates";

    /// <summary>Name of the gift packs section.</summary>
    public const string GiftPacksSection = "gift-packs";

    /// <summary>The coupon templates in force.</summary>
    public async Task<IReadOnlyList<CouponTemplate>> GetCouponTemplatesAsync(CancellationToken cancellationToken) =>
        (await config.GetAsync<IReadOnlyList<CouponTemplate>>(CouponTemplatesSection, [], cancellationToken)).Value;

    /// <summary>The gift packs in force.</summary>
    public async Task<GiftPackRules> GetGiftPacksAsync(CancellationToken cancellationToken) =>
        (await config.GetAsync(GiftPacksSection, GiftPackRules.Default, cancellationToken)).Value;

    /// <summary>What a section's validation may look at besides the section itself.</summary>
    public async Task<ConfigContext> GetContextAsync(OrgTree org, CancellationToken cancellationToken) =>
        new(org, await GetCouponTemplatesAsync(cancellationToken), await GetGiftPacksAsync(cancellationToken),
            (await config.GetAsync("tiers", ProgrammeRules.DefaultTiers, cancellationToken)).Value);

    // Gift packs named by tiers must exist (checked from either side).
    private static DomainError? CheckTierPacks(IReadOnlyList<TierRule>? tiers, GiftPackRules? packs) =>
        tiers is null || packs?.Packs is null ? null : tiers
            .SelectMany(t => new[] { t.UpgradeGiftPack, t.BirthdayGiftPack }.OfType<string>().Select(p => (t.Code, Pack: p)))
            .Where(x => packs.Find(x.Pack) is null)
            .Select(x => DomainError.Invalid("config_invalid", "upgradeGiftPack", $"Tier '{x.Code}' names gift pack '{x.Pack}', which does not exist."))
            .FirstOrDefault();

    // Templates still named by a gift pack cannot be removed.
    private static DomainError? CheckTemplates(IReadOnlyList<CouponTemplate> templates, ConfigContext context) =>
        CouponValidation.Check(templates, context.Org) ?? (templates is null ? null : CouponValidation.Check(context.GiftPacks, templates) is { } broken
            ? DomainError.Invalid("config_invalid", "templateId", "A gift pack still uses a template this change removes: " + broken.Message)
            : null);

    public async Task<ProgrammeRules> GetRulesAsync(CancellationToken cancellationToken)
    {
        var earning = await config.GetAsync("earning-rules", EarningRules.Default, cancellationToken);
        var tiers = await config.GetAsync("tiers", ProgrammeRules.DefaultTiers, cancellationToken);
        var days = await config.GetAsync("member-days", ProgrammeRules.DefaultMemberDays, cancellationToken);
        var topUp = await config.GetAsync("top-up-bonuses", TopUpRules.Default, cancellationToken);
        var storedValue = await config.GetAsync("stored-value", StoredValueRules.Default, cancellationToken);
        var rewards = await config.GetAsync("rewards", ProgrammeRules.DefaultRewards, cancellationToken);
        var authority = await config.GetAsync("adjustment-authority", AdjustmentAuthority.Default, cancellationToken);
        var policy = await config.GetAsync(TierPolicySection, TierPolicy.Default, cancellationToken);
        var version = string.Join('.', new[] { earning.Version, tiers.Version, days.Version, topUp.Version, storedValue.Version, rewards.Version, authority.Version, policy.Version }
            .Select(v => v.ToString(CultureInfo.InvariantCulture)));
        return new ProgrammeRules(earning.Value, tiers.Value, days.Value, topUp.Value, storedValue.Value, rewards.Value, authority.Value, "r" + version, policy.Value);
    }

    /// <summary>One configuration section: its default and its validation.</summary>
    internal interface ISection
    {
        Task<(object Value, long Version)> GetAsync(ConfigStore store, string name, CancellationToken cancellationToken);

        (object? Value, DomainError? Error) Parse(JsonElement body, ConfigContext context);

        Task<long?> PutAsync(ConfigStore store, string name, object value, long expectedVersion, string actor, CancellationToken cancellationToken);
    }

    private static readonly JsonSerializerOptions Strict = new(ConfigJson.Options) { UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow };

    private sealed class Section<T>(T fallback, Func<T, ConfigContext, DomainError?> validate) : ISection
    {
        public async Task<(object Value, long Version)> GetAsync(ConfigStore store, string name, CancellationToken cancellationToken)
        {
            var document = await store.GetAsync(name, fallback, cancellationToken);
            return (document.Value!, document.Version);
        }

        public (object? Value, DomainError? Error) Parse(JsonElement body, ConfigContext context)
        {
            T? value;
            try
            {
                value = body.Deserialize<T>(Strict);
            }
            catch (JsonException ex)
            {
                return (null, DomainError.Invalid("config_invalid", ex.Path?.TrimStart('$', '.') ?? "value", $"The section does not have the expected shape: {ex.Message}"));
            }

            if (value is null)
            {
                return (null, DomainError.Invalid("config_invalid", "value", "The section is empty."));
            }

            return (value, validate(value, context));
        }

        public Task<long?> PutAsync(ConfigStore store, string name, object value, long expectedVersion, string actor, CancellationToken cancellationToken) =>
            store.PutAsync(name, (T)value, expectedVersion, actor, cancellationToken);
    }
}

/// <summary>The org tree and the sections other sections refer to, for validation.</summary>
internal sealed record ConfigContext(OrgTree Org, IReadOnlyList<CouponTemplate> CouponTemplates, GiftPackRules GiftPacks, IReadOnlyList<TierRule> Tiers);

/// <summary>Roles that may change programme configuration.</summary>
internal static class ConfigRoles
{
    public static readonly Role[] Writers = [Role.HqAdmin, Role.Ops];
}
