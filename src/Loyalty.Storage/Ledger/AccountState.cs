using Azure.Data.Tables;
using Azure;
using Loyalty.Domain.Ledger;
using Loyalty.Storage.Tables;

namespace Loyalty.Storage.Ledger;

/// <summary>A member's account row as read for one decision: balances, tier, next ledger sequence, usable cards.</summary>
public sealed record AccountState(string MemberId, Balances Balances, string Tier, long NextSeq, int ActiveCards, ETag ETag)
{
    /// <summary>Tier progress as stored (JSON of amounts by month), null before the first qualifying activity.</summary>
    public string? TierProgress { get; init; }

    /// <summary>Points by earning month (JSON); null for accounts from before batches were kept.</summary>
    public string? PointBatches { get; init; }

    /// <summary>Stored value by lot (JSON, <see cref="Loyalty.Domain.Ledger.StoredValueLots"/>); null for accounts from before lots were kept.</summary>
    public string? StoredValueLots { get; init; }

    /// <summary>The member's use today of authority-limited actions (JSON, <see cref="Loyalty.Domain.Approvals.AuthorityUsage"/>).</summary>
    public string? AuthorityUsage { get; init; }

    /// <summary>A manually granted tier below which the period-end evaluation does not go; null when none.</summary>
    public string? TierFloor { get; init; }

    /// <summary>The local day the tier last changed (<c>yyyy-MM-dd</c>); null when it never has.</summary>
    public string? TierSince { get; init; }

    /// <summary>The upgrade packs granted for the tiers held (JSON, <see cref="Loyalty.Domain.Programme.UpgradeGrants"/>).</summary>
    public string? UpgradeGifts { get; init; }

    /// <summary>Purchase statistics (JSON), for automatic tags.</summary>
    public string? Stats { get; init; }

    /// <summary>Automatic tags (comma-separated).</summary>
    public string? AutoTags { get; init; }

    /// <summary>Tags set by staff (comma-separated).</summary>
    public string? ManualTags { get; init; }

    /// <summary>The tier of a paid membership (付费会员), valid until <see cref="PaidUntil"/>.</summary>
    public string? PaidTier { get; init; }

    /// <summary>End of the paid membership (exclusive).</summary>
    public DateTimeOffset? PaidUntil { get; init; }

    /// <summary>The number the member's next integration event gets (its place in the member's event stream).</summary>
    public long NextEvent { get; init; } = 1;

    /// <summary>The key of the member's last outbox row (the next one points back to it).</summary>
    public string? LastOutbox { get; init; }

    /// <summary>
    /// Which attempt this is. The first attempt is optimistic: rows that only exist for a repeated request (the
    /// idempotency row, a sale or refund row) are not read, because inserting them fails with 409 if they exist,
    /// and the next attempt reads them. Decisions that look such rows up do so from the second attempt on.
    /// </summary>
    public int Attempt { get; init; } = 1;

    /// <summary>True once an earlier attempt collided: look up rows a repeated request would have left.</summary>
    public bool IsRetry => Attempt > 1;

    internal static AccountState From(TableEntity row) => new(
        row.PartitionKey,
        new Balances(row.GetInt64("Points") ?? 0, row.GetInt64("Principal") ?? 0, row.GetInt64("Bonus") ?? 0),
        row.GetString("Tier") ?? Loyalty.Domain.Members.MemberAccount.EntryTier,
        row.GetInt64("NextSeq") ?? 1,
        row.GetInt32("ActiveCards") ?? 0,
        row.ETag)
    {
        TierProgress = row.GetString("TierProgress"),
        PointBatches = row.GetString("PointBatches"),
        StoredValueLots = row.GetString("StoredValueLots"),
        AuthorityUsage = row.GetString("AuthorityUsage"),
        TierFloor = row.GetString("TierFloor"),
        TierSince = row.GetString("TierSince"),
        UpgradeGifts = row.GetString("UpgradeGifts"),
        Stats = row.GetString("Stats"),
        AutoTags = row.GetString("AutoTags"),
        ManualTags = row.GetString("ManualTags"),
        PaidTier = row.GetString("PaidTier"),
        PaidUntil = row.GetDateTimeOffset("PaidUntil"),
        NextEvent = row.GetInt64("NextEvent") ?? 1,
        LastOutbox = row.GetString("LastOutbox"),
    };
}
