using System.Text.Json.Serialization;

namespace Loyalty.Domain.Coupons;

/// <summary>What a coupon takes off.</summary>
public enum CouponKind
{
    /// <summary>A fixed amount off the eligible lines (满减).</summary>
    AmountOff,
    /// <summary>A percentage off the eligible lines, optionally capped (折扣券).</summary>
    PercentOff,
    /// <summary>One unit of a named SKU free (兑换券).</summary>
    FreeItem,
}

/// <summary>Where a coupon is in its life.</summary>
public enum CouponState
{
    /// <summary>Held by the member, usable inside its validity.</summary>
    Issued,
    /// <summary>Used by a sale (restored to issued if that sale is refunded in full while still valid).</summary>
    Redeemed,
    /// <summary>Past its validity without being used.</summary>
    Expired,
    /// <summary>Withdrawn by operations.</summary>
    Revoked,
}

/// <summary>
/// The checkout terms of a coupon. Issued coupons keep a copy, so a later change of the template never changes a
/// coupon a member already holds.
/// </summary>
/// <param name="Kind">What it takes off.</param>
/// <param name="AmountOff">For <see cref="CouponKind.AmountOff"/>: fen off.</param>
/// <param name="PercentOff">For <see cref="CouponKind.PercentOff"/>: 1-100.</param>
/// <param name="MaxDiscount">For <see cref="CouponKind.PercentOff"/>: the largest discount in fen (optional).</param>
/// <param name="Sku">For <see cref="CouponKind.FreeItem"/>: the SKU given free (one unit).</param>
/// <param name="MinSpend">Smallest spend (fen) on the eligible lines (on the whole basket for a free item).</param>
/// <param name="Categories">Categories the coupon applies to; empty means every line.</param>
/// <param name="Stores">Stores or regions where it may be used; empty means anywhere.</param>
/// <param name="StacksWithMemberDiscount">False: the lines it covers are priced without the tier discount.</param>
public sealed record CouponTerms(
    CouponKind Kind,
    long? AmountOff,
    int? PercentOff,
    long? MaxDiscount,
    string? Sku,
    long MinSpend,
    IReadOnlyList<string> Categories,
    IReadOnlyList<string> Stores,
    bool StacksWithMemberDiscount)
{
    /// <summary>True when the coupon applies to <paramref name="sku"/> in <paramref name="category"/>.</summary>
    public bool Covers(string sku, string category) => Kind == CouponKind.FreeItem
        ? string.Equals(Sku, sku, StringComparison.OrdinalIgnoreCase)
        : Categories.Count == 0 || Categories.Contains(category, StringComparer.OrdinalIgnoreCase);
}

/// <summary>
/// A coupon template (<c>/api/config/coupon-templates</c>). Validity is either fixed dates (inclusive, in the chain's
/// time zone) or a number of days after the day of issue. Issuing stops at <paramref name="MaxIssued"/> coupons or
/// when the face value issued would pass <paramref name="Budget"/>.
/// </summary>
/// <param name="TemplateId">Stable id, e.g. <c>welcome-10</c>.</param>
/// <param name="Name">Display name (e.g. 新会员满100减10).</param>
/// <param name="Kind">What it takes off.</param>
/// <param name="AmountOff">Fen off (amountOff).</param>
/// <param name="PercentOff">Percent off (percentOff).</param>
/// <param name="MaxDiscount">Cap of a percent-off coupon, fen.</param>
/// <param name="Sku">Free SKU (freeItem).</param>
/// <param name="ItemValue">Value of the free item in fen, used only for budgets and reports.</param>
/// <param name="MinSpend">Smallest eligible spend in fen.</param>
/// <param name="Categories">Eligible categories (empty: all).</param>
/// <param name="Stores">Eligible stores or regions (empty: all).</param>
/// <param name="ValidFrom">First valid day (fixed validity).</param>
/// <param name="ValidTo">Last valid day (fixed validity).</param>
/// <param name="ValidDays">Days of validity after the day of issue (relative validity).</param>
/// <param name="StacksWithMemberDiscount">Whether the tier discount still applies to covered lines.</param>
/// <param name="MaxIssued">Most coupons ever issued from this template.</param>
/// <param name="Budget">Most face value (fen) ever issued from this template.</param>
/// <param name="ReminderDaysBeforeExpiry">Send an expiry reminder this many days before the end (optional).</param>
public sealed record CouponTemplate(
    string TemplateId,
    string Name,
    CouponKind Kind,
    long? AmountOff = null,
    int? PercentOff = null,
    long? MaxDiscount = null,
    string? Sku = null,
    long? ItemValue = null,
    long MinSpend = 0,
    IReadOnlyList<string>? Categories = null,
    IReadOnlyList<string>? Stores = null,
    DateOnly? ValidFrom = null,
    DateOnly? ValidTo = null,
    int? ValidDays = null,
    bool StacksWithMemberDiscount = true,
    int? MaxIssued = null,
    long? Budget = null,
    int? ReminderDaysBeforeExpiry = null)
{
    /// <summary>The terms copied onto each issued coupon.</summary>
    [JsonIgnore]
    public CouponTerms Terms => new(Kind, AmountOff, PercentOff, MaxDiscount, Sku, MinSpend, Categories ?? [], Stores ?? [], StacksWithMemberDiscount);

    /// <summary>The most one coupon can take off: the amount, the cap, or the item's value (0 when unknown).</summary>
    [JsonIgnore]
    public long FaceValue => Kind switch
    {
        CouponKind.AmountOff => AmountOff ?? 0,
        CouponKind.PercentOff => MaxDiscount ?? 0,
        _ => ItemValue ?? 0,
    };

    /// <summary>Whether issuing is limited (and so needs the template's counter).</summary>
    [JsonIgnore]
    public bool IsLimited => MaxIssued is not null || Budget is not null;

    /// <summary>
    /// The validity window of a coupon issued at <paramref name="issuedAt"/>, as UTC instants: from (inclusive) and
    /// until (exclusive). Fixed dates run from the start of the first day to the end of the last, in <paramref name="zone"/>.
    /// </summary>
    public (DateTimeOffset From, DateTimeOffset Until) Window(DateTimeOffset issuedAt, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        if (ValidDays is { } days)
        {
            var issueDay = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(issuedAt, zone).DateTime);
            return (issuedAt, StartOfDay(issueDay.AddDays(days + 1), zone));
        }

        return (StartOfDay(ValidFrom!.Value, zone), StartOfDay(ValidTo!.Value.AddDays(1), zone));
    }

    /// <summary>The UTC instant a local day starts in <paramref name="zone"/> (skipping a daylight-saving gap).</summary>
    public static DateTimeOffset StartOfDay(DateOnly day, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        var local = day.ToDateTime(TimeOnly.MinValue);
        while (zone.IsInvalidTime(local))
        {
            local = local.AddMinutes(30);
        }

        return new DateTimeOffset(TimeZoneInfo.ConvertTimeToUtc(local, zone), TimeSpan.Zero);
    }
}

/// <summary>One template in a gift pack, and how many coupons of it.</summary>
public sealed record GiftPackCoupon(string TemplateId, int Quantity = 1);

/// <summary>A gift pack (礼包): points and coupons granted together, for sign-up, tier upgrade, birthdays and campaigns.</summary>
public sealed record GiftPack(string PackId, string Name, long Points = 0, IReadOnlyList<GiftPackCoupon>? Coupons = null)
{
    /// <summary>The coupons, never null.</summary>
    [JsonIgnore]
    public IReadOnlyList<GiftPackCoupon> CouponList => Coupons ?? [];
}

/// <summary>The gift-packs section: the packs and which one a new member receives.</summary>
/// <param name="Packs">Named packs.</param>
/// <param name="SignUpPack">Pack granted at enrolment (optional).</param>
public sealed record GiftPackRules(IReadOnlyList<GiftPack> Packs, string? SignUpPack = null)
{
    /// <summary>No packs.</summary>
    public static GiftPackRules Default { get; } = new([], null);

    /// <summary>A pack by id, or null.</summary>
    public GiftPack? Find(string packId) => Packs.FirstOrDefault(p => p.PackId == packId);
}
