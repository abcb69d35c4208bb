using Loyalty.Domain.Auth;
using Loyalty.Domain.Members;

namespace Loyalty.Functions.Members;

/// <summary>A member as the API shows it. Phones are masked for terminals, which identify members by card or QR code.</summary>
internal sealed record MemberView(
    string MemberId,
    string Name,
    string Phone,
    Gender Gender,
    string? Birthday,
    string StoreId,
    EnrolmentChannel Channel,
    bool MarketingConsent,
    DateTimeOffset EnrolledAt,
    string Tier,
    BalancesView Balances,
    IReadOnlyList<CardView> Cards)
{
    /// <summary>The points that expire next and their last day (shown at the till and in the mini-program).</summary>
    public ExpiringPoints? NextExpiringPoints { get; init; }

    /// <summary>The view with the next expiring points under <paramref name="policy"/>, as of <paramref name="currentMonth"/>.</summary>
    public MemberView WithExpiry(MemberAccount account, Domain.Ledger.PointsExpiryPolicy policy, DateOnly currentMonth)
    {
        ArgumentNullException.ThrowIfNull(account);
        ArgumentNullException.ThrowIfNull(policy);
        var oldest = Domain.Ledger.PointBatches.Parse(account.PointBatches, account.Points, currentMonth).Oldest;
        return policy.Enabled && oldest is { } o && o.Points > 0
            ? this with { NextExpiringPoints = new ExpiringPoints(o.Points, policy.LastDay(o.Month).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)) }
            : this;
    }

    public static MemberView From(MemberSnapshot member, Role viewer)
    {
        ArgumentNullException.ThrowIfNull(member);
        var p = member.Profile;
        return new MemberView(
            p.MemberId,
            p.Name,
            viewer == Role.Terminal ? PhoneNumber.Mask(p.Phone) : p.Phone,
            p.Gender,
            p.Birthday?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            p.StoreId,
            p.Channel,
            p.MarketingConsent,
            p.EnrolledAt,
            member.Account.Tier,
            new BalancesView(member.Account.Points, new StoredValueView(member.Account.StoredValuePrincipal, member.Account.StoredValueBonus)),
            [.. member.Cards.OrderBy(c => c.IssuedAt).Select(CardView.From)])
        {
            Tags = new TagsView(Domain.Tags.TagRules.Split(member.Account.AutoTags), Domain.Tags.TagRules.Split(member.Account.ManualTags)),
        };
    }

    /// <summary>Automatic and manual tags.</summary>
    public TagsView? Tags { get; init; }

    /// <summary>A paid membership: its tier and end (shown while it is or was held).</summary>
    public PaidMembershipView? PaidMembership { get; init; }

    /// <summary>The tier whose benefits apply now (the earned tier or a valid paid membership's, whichever is higher).</summary>
    public string? EffectiveTier { get; init; }

    /// <summary>The view with the paid membership and the tier that applies at <paramref name="now"/>.</summary>
    public MemberView WithMembership(MemberAccount account, IReadOnlyList<Domain.Programme.TierRule> tiers, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(account);
        return this with
        {
            PaidMembership = account.PaidTier is { } tier && account.PaidUntil is { } until ? new PaidMembershipView(tier, until, until > now) : null,
            EffectiveTier = Domain.Programme.PaidMembershipRules.Effective(tiers, account.Tier, account.PaidTier, account.PaidUntil, now),
        };
    }
}

/// <summary>A paid membership: tier, end, and whether it is still valid.</summary>
internal sealed record PaidMembershipView(string Tier, DateTimeOffset PaidUntil, bool Valid);

/// <summary>A member's tags: computed from purchases, and set by staff.</summary>
internal sealed record TagsView(IReadOnlyList<string> Auto, IReadOnlyList<string> Manual);

/// <summary>Points that expire together, and the last day they can be used.</summary>
internal sealed record ExpiringPoints(long Points, string LastDay);

/// <summary>Balances: points, and stored value split into principal and bonus (fen).</summary>
internal sealed record BalancesView(long Points, StoredValueView StoredValue);

/// <summary>Stored value in fen.</summary>
internal sealed record StoredValueView(long Principal, long Bonus);

/// <summary>A card on the account.</summary>
internal sealed record CardView(string CardNumber, CardType Type, CardStatus Status, DateTimeOffset IssuedAt, long? DailyLimit, long? MonthlyLimit, string? ReplacedBy)
{
    public static CardView From(MemberCard card)
    {
        ArgumentNullException.ThrowIfNull(card);
        return new(card.CardNumber, card.Type, card.Status, card.IssuedAt, card.DailyLimit, card.MonthlyLimit, card.ReplacedBy);
    }
}
