namespace Loyalty.Domain.Ledger;

/// <summary>Kinds of ledger entry.</summary>
public enum LedgerEntryType
{
    /// <summary>Stored value topped up (principal, and bonus if a band applies).</summary>
    TopUp,
    /// <summary>A purchase: points earned and redeemed, stored value spent.</summary>
    Sale,
    /// <summary>A refund: the reverse of part or all of a sale.</summary>
    Refund,
    /// <summary>Points exchanged for a reward or taken off.</summary>
    Redemption,
    /// <summary>A manual points adjustment.</summary>
    Adjustment,
    /// <summary>Points granted with a gift pack (sign-up, upgrade, birthday, campaign).</summary>
    Gift,
    /// <summary>Points earned outside purchases (daily check-in).</summary>
    Bonus,
    /// <summary>Points that reached the end of their validity (the oldest earning months).</summary>
    Expiry,
    /// <summary>A paid membership bought or renewed (stored value spent on it, if paid that way).</summary>
    Membership,
    /// <summary>Stored-value principal paid back to the member (退储值); bonus value is never paid out.</summary>
    StoredValueRefund,
    /// <summary>Balances a member brought from the chain's old system (an HQ member import; the reference is the batch).</summary>
    Opening,
}

/// <summary>
/// One ledger row: append-only, never updated or deleted; a mistake is corrected by a new entry. The deltas of all
/// of a member's entries add up to the member's balances.
/// </summary>
/// <param name="Seq">Per-member sequence, from 1, without gaps.</param>
/// <param name="Type">Kind of entry.</param>
/// <param name="Reason">Reason code, e.g. <c>sale</c>, <c>top_up.store_terminal</c>, <c>adjustment</c>.</param>
/// <param name="Points">Points delta.</param>
/// <param name="Principal">Stored-value principal delta (fen).</param>
/// <param name="Bonus">Stored-value bonus delta (fen).</param>
/// <param name="StoreId">Store where it happened.</param>
/// <param name="Actor">Principal id that caused it.</param>
/// <param name="IdempotencyKey">The key it was applied under (each key applies once).</param>
/// <param name="At">When (UTC).</param>
/// <param name="Reference">Sale id, refund id, reward id or card number's last digits.</param>
/// <param name="RuleVersion">Programme rule version used for pricing and points.</param>
/// <param name="Note">Free text (adjustment reason).</param>
public sealed record LedgerEntry(
    long Seq,
    LedgerEntryType Type,
    string Reason,
    long Points,
    long Principal,
    long Bonus,
    string StoreId,
    string Actor,
    string IdempotencyKey,
    DateTimeOffset At,
    string? Reference,
    string? RuleVersion,
    string? Note);
