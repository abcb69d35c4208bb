using Azure.Data.Tables;
using Loyalty.Domain.Ledger;
using Loyalty.Storage.Tables;

namespace Loyalty.Storage.Ledger;

/// <summary>What a member operation decided, given the account it read.</summary>
public abstract record LedgerDecision;

/// <summary>
/// Write: the new ledger entry's content (or none, for card operations), the account changes, the extra rows of the
/// same partition, and the response to store with the idempotency record.
/// </summary>
/// <param name="Entry">Ledger entry without sequence; null when balances do not move.</param>
/// <param name="Respond">Builds the response from the balances after the write.</param>
/// <param name="Rows">Other rows written in the same transaction (sale record, card rows, audit row), given the
/// response body so that a row can keep it for replays.</param>
/// <param name="Status">HTTP status of the response.</param>
/// <param name="ActiveCardsDelta">Change of the account's count of usable cards.</param>
public sealed record WriteDecision(
    LedgerEntryDraft? Entry,
    Func<Balances, object> Respond,
    Func<string, IReadOnlyList<TableTransactionAction>> Rows,
    int Status = 201,
    int ActiveCardsDelta = 0) : LedgerDecision
{
    /// <summary>Further ledger entries of the same operation (e.g. the points of an upgrade gift pack), applied after <see cref="Entry"/>.</summary>
    public IReadOnlyList<LedgerEntryDraft> MoreEntries { get; init; } = [];

    /// <summary>
    /// The stored-value lots after the operation (JSON), when it moves value between lots in its own way (a refund of
    /// principal takes each lot's bonus with it); null: the engine applies the entries' changes to the lots.
    /// </summary>
    public string? StoredValueLots { get; init; }

    /// <summary>The member's authority usage after the operation (JSON); null leaves it.</summary>
    public string? AuthorityUsage { get; init; }

    /// <summary>The account's new tier, when the operation changes it.</summary>
    public string? Tier { get; init; }

    /// <summary>The account's new tier progress (JSON), when the operation changes it.</summary>
    public string? TierProgress { get; init; }

    /// <summary>The account's new tier floor (a manually granted tier); empty clears it; null leaves it.</summary>
    public string? TierFloor { get; init; }

    /// <summary>The upgrade packs granted for the tiers held (JSON); null leaves them.</summary>
    public string? UpgradeGifts { get; init; }

    /// <summary>New purchase statistics (JSON); null leaves them.</summary>
    public string? Stats { get; init; }

    /// <summary>New automatic tags (comma-separated); null leaves them.</summary>
    public string? AutoTags { get; init; }

    /// <summary>New manual tags (comma-separated); null leaves them.</summary>
    public string? ManualTags { get; init; }

    /// <summary>A paid membership bought or renewed: its tier and end; null leaves it.</summary>
    public (string Tier, DateTimeOffset Until)? PaidMembership { get; init; }

    /// <summary>
    /// Report counters of the operation beyond what its ledger entries say (sale amounts, coupons used, channel),
    /// counted at <see cref="ReportStoreId"/>; null adds none.
    /// </summary>
    public Reports.ReportCounters? Report { get; init; }

    /// <summary>The store <see cref="Report"/> is counted at; null: the store of the first ledger entry.</summary>
    public string? ReportStoreId { get; init; }

    /// <summary>No extra rows.</summary>
    public static IReadOnlyList<TableTransactionAction> None(string body) => [];
}

/// <summary>The operation already happened under another key (e.g. the same sale id): answer with its stored response.</summary>
public sealed record ExistingDecision(int Status, string Body) : LedgerDecision;

/// <summary>A ledger entry before it has a sequence number and time.</summary>
public sealed record LedgerEntryDraft(
    LedgerEntryType Type,
    string Reason,
    LedgerChange Change,
    string StoreId,
    string? Reference,
    string? RuleVersion,
    string? Note);
