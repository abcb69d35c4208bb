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
}

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
