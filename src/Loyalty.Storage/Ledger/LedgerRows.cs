using Azure.Data.Tables;
using Loyalty.Domain.Ledger;
using Loyalty.Storage.Members;
using Loyalty.Storage.Tables;

namespace Loyalty.Storage.Ledger;

/// <summary>Ledger row layout: one row per entry, with the balances after it for statements.</summary>
public static class LedgerRows
{
    /// <summary>The row of an entry.</summary>
    public static TableEntity ToRow(string memberId, LedgerEntry e, Balances after)
    {
        ArgumentNullException.ThrowIfNull(e);
        var row = new TableEntity(memberId, MemberRows.LedgerRowKey(memberId, e.Seq))
        {
            ["Seq"] = e.Seq,
            ["Type"] = e.Type.ToString(),
            ["Reason"] = e.Reason,
            ["Points"] = e.Points,
            ["Principal"] = e.Principal,
            ["Bonus"] = e.Bonus,
            ["StoreId"] = e.StoreId,
            ["Actor"] = e.Actor,
            ["IdempotencyKey"] = e.IdempotencyKey,
            ["At"] = e.At,
            ["PointsAfter"] = after.Points,
            ["PrincipalAfter"] = after.Principal,
            ["BonusAfter"] = after.Bonus,
        };
        if (e.Reference is not null)
        {
            row["Reference"] = e.Reference;
        }

        if (e.RuleVersion is not null)
        {
            row["RuleVersion"] = e.RuleVersion;
        }

        if (e.Note is not null)
        {
            row["Note"] = e.Note;
        }

        return row;
    }

    /// <summary>The entry of a row.</summary>
    public static LedgerEntry FromRow(TableEntity row)
    {
        ArgumentNullException.ThrowIfNull(row);
        return new LedgerEntry(
            row.GetInt64("Seq") ?? 0,
            Enum.Parse<LedgerEntryType>(row.Require("Type")),
            row.Require("Reason"),
            row.GetInt64("Points") ?? 0,
            row.GetInt64("Principal") ?? 0,
            row.GetInt64("Bonus") ?? 0,
            row.Require("StoreId"),
            row.Require("Actor"),
            row.GetString("IdempotencyKey") ?? string.Empty,
            row.GetDateTimeOffset("At") ?? default,
            row.GetString("Reference"),
            row.GetString("RuleVersion"),
            row.GetString("Note"));
    }

    /// <summary>Balances after the entry, as stored on its row.</summary>
    public static Balances AfterOf(TableEntity row)
    {
        ArgumentNullException.ThrowIfNull(row);
        return new(row.GetInt64("PointsAfter") ?? 0, row.GetInt64("PrincipalAfter") ?? 0, row.GetInt64("BonusAfter") ?? 0);
    }

    /// <summary>True when the row key is a ledger row.</summary>
    public static bool IsLedgerRow(string rowKey) => rowKey?.StartsWith(MemberRows.LedgerPrefix, StringComparison.Ordinal) == true;
}
