using Azure;
using Loyalty.Domain.Ledger;
using Loyalty.Storage.Tables;

namespace Loyalty.Storage.Ledger;

/// <summary>A member's account row as read for one decision: balances, tier, next ledger sequence, usable cards.</summary>
public sealed record AccountState(string MemberId, Balances Balances, string Tier, long NextSeq, int ActiveCards, ETag ETag)
{
    internal static AccountState From(TableEntity row) => new(
        row.PartitionKey,
        new Balances(row.GetInt64("Points") ?? 0, row.GetInt64("Principal") ?? 0, row.GetInt64("Bonus") ?? 0),
        row.GetString("Tier") ?? Loyalty.Domain.Members.MemberAccount.EntryTier,
        row.GetInt64("NextSeq") ?? 1,
        row.GetInt32("ActiveCards") ?? 0,
        row.ETag);
}
