namespace Loyalty.Domain.Events;

/// <summary>One kind of integration event: its CloudEvents <c>type</c>, the version of its data and what it says.</summary>
/// <param name="Type">The CloudEvents <c>type</c>, e.g. <c>member.enrolled</c>.</param>
/// <param name="Version">Version of the <c>data</c> shape; a breaking change adds a version, never edits one.</param>
/// <param name="Description">What happened, in the chain's terms.</param>
public sealed record EventKind(string Type, int Version, string Description)
{
    /// <summary>The CloudEvents <c>dataschema</c> of this version.</summary>
    public string DataSchema => $"urn:loyalty:events:{Type}:v{Version}";
}

/// <summary>
/// The integration events the app publishes to the chain's other systems (docs/events.md): each describes one change
/// that committed, carries a stable id and the member's event sequence, and travels in a CloudEvents 1.0 envelope.
/// </summary>
public static class EventCatalogue
{
    /// <summary>The CloudEvents <c>source</c> of every event.</summary>
    /// <summary><c>/loyalty</c>.</summary>
    public const string Source = "/loyalty";

    /// <summary><c>member.enrolled</c>.</summary>
    public const string MemberEnrolled = "member.enrolled";
    /// <summary><c>member.updated</c>.</summary>
    public const string MemberUpdated = "member.updated";
    /// <summary><c>card.issued</c>.</summary>
    public const string CardIssued = "card.issued";
    /// <summary><c>card.status_changed</c>.</summary>
    public const string CardStatusChanged = "card.status_changed";
    /// <summary><c>stored_value.topped_up</c>.</summary>
    public const string StoredValueToppedUp = "stored_value.topped_up";
    /// <summary><c>stored_value.spent</c>.</summary>
    public const string StoredValueSpent = "stored_value.spent";
    /// <summary><c>stored_value.refunded</c>.</summary>
    public const string StoredValueRefunded = "stored_value.refunded";
    /// <summary><c>stored_value.opened</c>.</summary>
    public const string StoredValueOpened = "stored_value.opened";
    /// <summary><c>points.earned</c>.</summary>
    public const string PointsEarned = "points.earned";
    /// <summary><c>points.redeemed</c>.</summary>
    public const string PointsRedeemed = "points.redeemed";
    /// <summary><c>points.expired</c>.</summary>
    public const string PointsExpired = "points.expired";
    /// <summary><c>points.adjusted</c>.</summary>
    public const string PointsAdjusted = "points.adjusted";
    /// <summary><c>tier.changed</c>.</summary>
    public const string TierChanged = "tier.changed";
    /// <summary><c>coupon.issued</c>.</summary>
    public const string CouponIssued = "coupon.issued";
    /// <summary><c>coupon.redeemed</c>.</summary>
    public const string CouponRedeemed = "coupon.redeemed";
    /// <summary><c>coupon.revoked</c>.</summary>
    public const string CouponRevoked = "coupon.revoked";
    /// <summary><c>sale.recorded</c>.</summary>
    public const string SaleRecorded = "sale.recorded";
    /// <summary><c>sale.refunded</c>.</summary>
    public const string SaleRefunded = "sale.refunded";
    /// <summary><c>membership.purchased</c>.</summary>
    public const string MembershipPurchased = "membership.purchased";
    /// <summary><c>approval.decided</c>.</summary>
    public const string ApprovalDecided = "approval.decided";
    /// <summary><c>campaign.completed</c>.</summary>
    public const string CampaignCompleted = "campaign.completed";
    /// <summary><c>notification.requested</c>.</summary>
    public const string NotificationRequested = "notification.requested";

    /// <summary>Every kind, in the order docs/events.md lists them.</summary>
    public static IReadOnlyList<EventKind> All { get; } =
    [
        new(MemberEnrolled, 1, "A member enrolled (till, online shop, mini-program or HQ import), with the first card."),
        new(MemberUpdated, 1, "A member's tags or paid membership changed."),
        new(CardIssued, 1, "A card was added to a member (an extra or a replacement card)."),
        new(CardStatusChanged, 1, "A card was reported lost, frozen, unfrozen, cancelled or replaced."),
        new(StoredValueToppedUp, 1, "Stored value was topped up: principal and bonus, by channel."),
        new(StoredValueSpent, 1, "Stored value paid for a sale or a paid membership."),
        new(StoredValueRefunded, 1, "Stored value went back: to the card by a sale refund, or principal paid out (退储值)."),
        new(StoredValueOpened, 1, "Opening stored value brought from the chain's old system by an HQ import."),
        new(PointsEarned, 1, "Points were earned: purchases, check-in, gift packs, opening balances."),
        new(PointsRedeemed, 1, "Points were spent: on a sale or for a reward."),
        new(PointsExpired, 1, "Points reached the end of their validity."),
        new(PointsAdjusted, 1, "Points were adjusted by staff, or taken back by a refund."),
        new(TierChanged, 1, "The member's tier changed (upgrade, downgrade, manual grant, paid membership)."),
        new(CouponIssued, 1, "A coupon was issued to the member."),
        new(CouponRedeemed, 1, "A coupon was used on a sale (or given back by its refund: state issued)."),
        new(CouponRevoked, 1, "A coupon was withdrawn by staff or by a downgrade."),
        new(SaleRecorded, 1, "A member sale was recorded: amount, discount, points, stored value."),
        new(SaleRefunded, 1, "All or part of a member sale was refunded."),
        new(MembershipPurchased, 1, "A paid membership was bought or renewed."),
        new(ApprovalDecided, 1, "An approval request was approved or rejected at its last stage, or expired."),
        new(CampaignCompleted, 1, "A reactivation campaign finished: members targeted and offered."),
        new(NotificationRequested, 1, "A message to a member was composed for the SMS or WeChat gateway."),
    ];

    /// <summary>The kind of <paramref name="type"/>; null when the catalogue has none.</summary>
    public static EventKind? Find(string type) => All.FirstOrDefault(k => k.Type == type);
}
