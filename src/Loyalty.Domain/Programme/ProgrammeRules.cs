using Loyalty.Domain.Auth;

namespace Loyalty.Domain.Programme;

/// <summary>How points are earned and spent at checkout.</summary>
/// <param name="PointsPerYuan">Base rate: points per yuan (100 fen) of eligible spend.</param>
/// <param name="ExcludedCategories">Categories that earn nothing (e.g. tobacco, gift cards).</param>
/// <param name="OffsetPointsPerYuan">Points needed to take one yuan off the price (积分抵扣).</param>
/// <param name="MaxOffsetPercent">Largest share of the discounted amount that points may pay.</param>
/// <param name="ExcludedSkus">SKUs that earn nothing.</param>
/// <param name="CategoryMultipliers">Multipliers (percent) by category, e.g. 200 for double points on dairy.</param>
/// <param name="SkuMultipliers">Multipliers (percent) by SKU; a SKU's multiplier replaces its category's.</param>
/// <param name="MinimumOrder">Smallest eligible spend (fen) that earns anything.</param>
/// <param name="CapPerTransaction">Most points one purchase may earn.</param>
/// <param name="ScopeRates">Base rates of regions and stores (a store's own rate wins over its region's).</param>
/// <param name="CheckInPoints">Points for a daily check-in (签到); 0 turns check-ins off.</param>
public sealed record EarningRules(
    int PointsPerYuan,
    IReadOnlyList<string> ExcludedCategories,
    int OffsetPointsPerYuan,
    int MaxOffsetPercent,
    IReadOnlyList<string>? ExcludedSkus = null,
    IReadOnlyList<EarningMultiplier>? CategoryMultipliers = null,
    IReadOnlyList<EarningMultiplier>? SkuMultipliers = null,
    long MinimumOrder = 0,
    long? CapPerTransaction = null,
    IReadOnlyList<ScopeRate>? ScopeRates = null,
    long CheckInPoints = 0)
{
    /// <summary>1 point per yuan, 100 points per yuan off, at most half the bill.</summary>
    public static EarningRules Default { get; } = new(1, [], 100, 50);

    /// <summary>Whether a line of <paramref name="sku"/> in <paramref name="category"/> earns points at all.</summary>
    public bool Earns(string sku, string category) =>
        !ExcludedCategories.Contains(category, StringComparer.OrdinalIgnoreCase) && !(ExcludedSkus ?? []).Contains(sku, StringComparer.OrdinalIgnoreCase);

    /// <summary>The line multiplier (percent): the SKU's, else the category's, else 100.</summary>
    public int MultiplierFor(string sku, string category) =>
        (SkuMultipliers ?? []).FirstOrDefault(m => string.Equals(m.Key, sku, StringComparison.OrdinalIgnoreCase))?.MultiplierPercent
        ?? (CategoryMultipliers ?? []).FirstOrDefault(m => string.Equals(m.Key, category, StringComparison.OrdinalIgnoreCase))?.MultiplierPercent
        ?? 100;

    /// <summary>
    /// The rules as they apply at <paramref name="storeId"/>: the base rate of the store if it has one, else of its
    /// nearest region that has one, else the chain's.
    /// </summary>
    public EarningRules ForStore(string storeId, Org.OrgTree org)
    {
        ArgumentNullException.ThrowIfNull(org);
        for (var node = org.Find(storeId); node is not null; node = node.ParentId is null ? null : org.Find(node.ParentId))
        {
            if ((ScopeRates ?? []).FirstOrDefault(r => r.ScopeId == node.Id) is { } rate)
            {
                return this with { PointsPerYuan = rate.PointsPerYuan };
            }
        }

        return this;
    }
}

/// <summary>A points multiplier for a category or SKU (<paramref name="Key"/>), in percent.</summary>
public sealed record EarningMultiplier(string Key, int MultiplierPercent);

/// <summary>The base rate of a region or store.</summary>
public sealed record ScopeRate(string ScopeId, int PointsPerYuan);

/// <summary>One tier's checkout benefits.</summary>
/// <param name="Code">Stable code stored on the account, e.g. <c>standard</c>, <c>silver</c>.</param>
/// <param name="Name">Display name (普通 / 白银 / 黄金).</param>
/// <param name="PricePercent">Share of the price the member pays, in hundredths of a percent (9500 = 95%).</param>
/// <param name="PointsMultiplierPercent">Points multiplier in percent (150 = 1.5x).</param>
/// <param name="Threshold">Progress needed to reach the tier, in the unit of the tier policy's basis (0 for the entry tier).</param>
/// <param name="UpgradeGiftPack">Gift pack granted, once, in the transaction that reaches the tier (升级礼包).</param>
/// <param name="BirthdayGiftPack">Gift pack of the tier's birthday gift (生日礼).</param>
/// <param name="Benefits">Service benefits listed for members (free shipping, priority service, ...).</param>
public sealed record TierRule(
    string Code,
    string Name,
    int PricePercent,
    int PointsMultiplierPercent,
    long Threshold = 0,
    string? UpgradeGiftPack = null,
    string? BirthdayGiftPack = null,
    IReadOnlyList<string>? Benefits = null);

/// <summary>
/// A member day (会员日): a day of the month and/or days of the week, optionally within hours, with a points
/// multiplier. All in the chain's time zone.
/// </summary>
/// <param name="DayOfMonth">1-31 (optional when weekdays are given).</param>
/// <param name="MultiplierPercent">Points multiplier in percent (200 = double points).</param>
/// <param name="Weekdays">Days of the week (optional when a day of the month is given).</param>
/// <param name="FromHour">First hour of the window (0-23), inclusive.</param>
/// <param name="ToHour">End of the window (1-24), exclusive.</param>
public sealed record MemberDayRule(int? DayOfMonth, int MultiplierPercent, IReadOnlyList<DayOfWeek>? Weekdays = null, int? FromHour = null, int? ToHour = null)
{
    /// <summary>Whether the rule applies at local time <paramref name="local"/>.</summary>
    public bool AppliesAt(DateTime local) =>
        (DayOfMonth is null || DayOfMonth == local.Day)
        && (Weekdays is not { Count: > 0 } || Weekdays.Contains(local.DayOfWeek))
        && (FromHour ?? 0) <= local.Hour && local.Hour < (ToHour ?? 24);
}

/// <summary>
/// A top-up bonus band: topping up at least <paramref name="MinAmount"/> gives <paramref name="Bonus"/> (fen), on the
/// days from <paramref name="ValidFrom"/> to <paramref name="ValidTo"/> (inclusive, chain time zone; open when absent)
/// at the stores or regions listed in <paramref name="Stores"/> (anywhere when absent).
/// </summary>
public sealed record TopUpBonusBand(long MinAmount, long Bonus, DateOnly? ValidFrom = null, DateOnly? ValidTo = null, IReadOnlyList<string>? Stores = null)
{
    /// <summary>Whether the band applies on <paramref name="localDate"/> at <paramref name="storeId"/>.</summary>
    public bool AppliesTo(DateOnly localDate, string storeId, Org.OrgTree? org) =>
        (ValidFrom is null || localDate >= ValidFrom) && (ValidTo is null || localDate <= ValidTo)
        && (Stores is not { Count: > 0 } || Stores.Any(s => s == storeId || (org?.Contains(s, storeId) ?? false)));
}

/// <summary>Top-up rules: bonus bands and who may top up.</summary>
/// <param name="Bands">Bonus bands; the highest band reached applies.</param>
/// <param name="AllowedStores">Stores that may top up (指定网点); empty means any.</param>
/// <param name="AllowedPrincipals">Principals that may top up (指定操作员); empty means any.</param>
/// <param name="MinAmount">Smallest top-up in fen.</param>
/// <param name="MaxAmount">Largest single top-up in fen.</param>
public sealed record TopUpRules(IReadOnlyList<TopUpBonusBand> Bands, IReadOnlyList<string> AllowedStores, IReadOnlyList<string> AllowedPrincipals, long MinAmount, long MaxAmount)
{
    /// <summary>Top up 500 get 50, top up 1000 get 120; 1 to 50,000 yuan; anyone.</summary>
    public static TopUpRules Default { get; } = new([new(50_000, 5_000), new(100_000, 12_000)], [], [], 100, 5_000_000);

    /// <summary>The bonus for a top-up of <paramref name="amount"/> on <paramref name="localDate"/> at <paramref name="storeId"/>: the best band that applies.</summary>
    public long BonusFor(long amount, DateOnly localDate, string storeId, Org.OrgTree? org) =>
        Bands.Where(b => amount >= b.MinAmount && b.AppliesTo(localDate, storeId, org)).Select(b => b.Bonus).DefaultIfEmpty(0).Max();
}

/// <summary>Which part of stored value a purchase spends first.</summary>
public enum SpendOrder
{
    /// <summary>Bonus first (keeps refundable principal longest; the usual choice).</summary>
    BonusFirst,
    /// <summary>Principal first.</summary>
    PrincipalFirst,
}

/// <summary>Stored-value rules.</summary>
/// <param name="SpendOrder">Which part pays first.</param>
public sealed record StoredValueRules(SpendOrder SpendOrder)
{
    /// <summary>Bonus first.</summary>
    public static StoredValueRules Default { get; } = new(SpendOrder.BonusFirst);
}

/// <summary>A reward in the points catalogue (积分兑换).</summary>
public sealed record Reward(string RewardId, string Name, long Points);

/// <summary>Largest manual points adjustment (either sign) each role may apply without approval.</summary>
public sealed record AdjustmentAuthority(IReadOnlyDictionary<Role, long> MaxPoints)
{
    /// <summary>Terminals none; store managers 500; region managers 5,000; HQ and ops 50,000.</summary>
    public static AdjustmentAuthority Default { get; } = new(new Dictionary<Role, long>
    {
        [Role.Terminal] = 0,
        [Role.StoreManager] = 500,
        [Role.RegionManager] = 5_000,
        [Role.Ops] = 50_000,
        [Role.HqAdmin] = 50_000,
    });

    /// <summary>The limit of a role (0 when unlisted).</summary>
    public long LimitFor(Role role) => MaxPoints.TryGetValue(role, out var limit) ? limit : 0;

    /// <summary>
    /// What the points limit here, and the approval-policy threshold of stored-value refunds, apply to for store and
    /// region staff: the day's total per member and per operator (default), or each request alone.
    /// </summary>
    public Approvals.AuthorityWindow Window { get; init; } = Approvals.AuthorityWindow.Day;

    /// <summary>
    /// True when a request by <paramref name="role"/> is checked against the day's totals. HQ administrators and
    /// operations sit at the top of the approval chain and are checked per request (a second HQ administrator
    /// approves above their limit); store and region staff are checked by day.
    /// </summary>
    public bool CountsByDay(Role role) => Window == Approvals.AuthorityWindow.Day && role is not (Role.HqAdmin or Role.Ops);
}

/// <summary>The programme's configuration as one consistent snapshot, with the version of each part.</summary>
public sealed record ProgrammeRules(
    EarningRules Earning,
    IReadOnlyList<TierRule> Tiers,
    IReadOnlyList<MemberDayRule> MemberDays,
    TopUpRules TopUp,
    StoredValueRules StoredValue,
    IReadOnlyList<Reward> Rewards,
    AdjustmentAuthority Authority,
    string Version,
    TierPolicy? TierPolicy = null)
{
    /// <summary>The tier policy in force (the default when none was given).</summary>
    public TierPolicy Policy => TierPolicy ?? Programme.TierPolicy.Default;

    /// <summary>Default tiers: 普通 100%/1x, 白银 98%/1.2x from 1,000 yuan, 黄金 95%/1.5x from 5,000, 铂金 90%/2x from 20,000 (qualifying spend, rolling 12 months).</summary>
    public static IReadOnlyList<TierRule> DefaultTiers { get; } =
    [
        new("standard", "普通会员", 10_000, 100),
        new("silver", "白银会员", 9_800, 120, 100_000),
        new("gold", "黄金会员", 9_500, 150, 500_000),
        new("platinum", "铂金会员", 9_000, 200, 2_000_000),
    ];

    /// <summary>The 15th of each month, double points.</summary>
    public static IReadOnlyList<MemberDayRule> DefaultMemberDays { get; } = [new(15, 200)];

    /// <summary>A small default catalogue.</summary>
    public static IReadOnlyList<Reward> DefaultRewards { get; } =
    [
        new("coffee", "咖啡兑换券", 500),
        new("tote-bag", "环保袋", 1_200),
    ];

    /// <summary>The rule for a tier code; unknown codes fall back to the first (entry) tier.</summary>
    public TierRule Tier(string code) => Tiers.FirstOrDefault(t => t.Code == code) ?? Tiers[0];

    /// <summary>The member-day multiplier at local time <paramref name="local"/>: the highest that applies, 100 when none.</summary>
    public int MemberDayMultiplier(DateTime local) =>
        MemberDays.Where(d => d.AppliesAt(local)).Select(d => d.MultiplierPercent).DefaultIfEmpty(100).Max();
}
