namespace Loyalty.Domain.Members;

/// <summary>A member's balances and tier: owned by the server, changed only through ledger operations.</summary>
/// <param name="Points">Points balance.</param>
/// <param name="StoredValuePrincipal">Stored value paid in (refundable), in fen.</param>
/// <param name="StoredValueBonus">Stored value given as top-up bonus (not refundable), in fen.</param>
/// <param name="Tier">Tier code.</param>
public sealed record MemberAccount(long Points, long StoredValuePrincipal, long StoredValueBonus, string Tier)
{
    /// <summary>Tier progress as stored (JSON of amounts by month); null before any qualifying activity.</summary>
    public string? TierProgress { get; init; }

    /// <summary>Points by earning month (JSON); null for accounts from before batches were kept.</summary>
    public string? PointBatches { get; init; }

    /// <summary>Automatic tags (comma-separated).</summary>
    public string? AutoTags { get; init; }

    /// <summary>Tags set by staff (comma-separated).</summary>
    public string? ManualTags { get; init; }

    /// <summary>The tier of a paid membership, valid until <see cref="PaidUntil"/>.</summary>
    public string? PaidTier { get; init; }

    /// <summary>End of the paid membership (exclusive).</summary>
    public DateTimeOffset? PaidUntil { get; init; }

    /// <summary>The tier every member starts in until programme tiers are configured.</summary>
    public const string EntryTier = "standard";

    /// <summary>A new member's empty account.</summary>
    public static MemberAccount Empty { get; } = new(0, 0, 0, EntryTier);
}

/// <summary>Everything shown about a member: profile, account and cards.</summary>
public sealed record MemberSnapshot(MemberProfile Profile, MemberAccount Account, IReadOnlyList<MemberCard> Cards);
