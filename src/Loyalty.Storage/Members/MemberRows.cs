using Azure.Data.Tables;
using Loyalty.Domain.Members;
using Loyalty.Storage.Tables;

namespace Loyalty.Storage.Members;

/// <summary>
/// Row layout of a member partition (PartitionKey = member id). Rows that every member has (profile, account, the
/// first ledger rows) end their row key with the member id, so no two partitions share a row key: Azure does not need
/// it, but Azurite looks a row up by its row key first and then scans every row with that key for the partition, which
/// made each read and write of a shared key cost one step per member (docs/decisions/0010-member-unique-row-keys.md).
/// </summary>
internal static class MemberRows
{
    public const string ProfilePrefix = "profile-";
    public const string AccountPrefix = "account-";
    public const string CardPrefix = "card-";
    public const string LedgerPrefix = "ledger-";
    public const string IdempotencyPrefix = "idem-";
    public const string SalePrefix = "sale-";
    public const string RefundPrefix = "refund-";
    public const string AuditPrefix = "audit-";

    /// <summary>Row key of the profile row.</summary>
    public static string ProfileKey(string memberId) => ProfilePrefix + memberId;

    /// <summary>Row key of the account row.</summary>
    public static string AccountKey(string memberId) => AccountPrefix + memberId;

    /// <summary>Ledger rows sort newest first: the row key holds the inverted sequence (fixed width, so the member id after it does not change the order).</summary>
    public static string LedgerRowKey(string memberId, long seq) =>
        LedgerPrefix + (999_999_999_999 - seq).ToString("D12", System.Globalization.CultureInfo.InvariantCulture) + "-" + memberId;

    public static TableEntity ToProfileRow(MemberProfile p)
    {
        var row = new TableEntity(p.MemberId, ProfileKey(p.MemberId))
        {
            ["Phone"] = p.Phone,
            ["Name"] = p.Name,
            ["Gender"] = p.Gender.ToString(),
            ["StoreId"] = p.StoreId,
            ["Channel"] = p.Channel.ToString(),
            ["MarketingConsent"] = p.MarketingConsent,
            ["EnrolledAt"] = p.EnrolledAt,
        };
        if (p.Birthday is { } b)
        {
            row["Birthday"] = b.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        }

        return row;
    }

    public static MemberProfile FromProfileRow(TableEntity row) => new(
        row.PartitionKey,
        row.Require("Phone"),
        row.Require("Name"),
        row.GetString("Birthday") is { } b ? DateOnly.ParseExact(b, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) : null,
        Enum.Parse<Gender>(row.Require("Gender")),
        row.Require("StoreId"),
        Enum.Parse<EnrolmentChannel>(row.Require("Channel")),
        row.GetBoolean("MarketingConsent") ?? false,
        row.GetDateTimeOffset("EnrolledAt") ?? default);

    public static TableEntity ToAccountRow(string memberId, MemberAccount a) => new(memberId, AccountKey(memberId))
    {
        ["Points"] = a.Points,
        ["Principal"] = a.StoredValuePrincipal,
        ["Bonus"] = a.StoredValueBonus,
        ["Tier"] = a.Tier,
        ["NextSeq"] = 1L,
        ["ActiveCards"] = 1,
        ["TierProgress"] = a.TierProgress,
    };

    // The account's columns are read in one place (AccountState); the snapshot view takes what it shows from there.
    public static MemberAccount FromAccountRow(TableEntity row)
    {
        var state = Ledger.AccountState.From(row);
        return new MemberAccount(state.Balances.Points, state.Balances.Principal, state.Balances.Bonus, state.Tier)
        {
            TierProgress = state.TierProgress,
            PointBatches = state.PointBatches,
            AutoTags = state.AutoTags,
            ManualTags = state.ManualTags,
            PaidTier = state.PaidTier,
            PaidUntil = state.PaidUntil,
        };
    }

    public static TableEntity ToCardRow(string memberId, MemberCard c)
    {
        var row = new TableEntity(memberId, CardPrefix + c.CardNumber)
        {
            ["CardNumber"] = c.CardNumber,
            ["Type"] = c.Type.ToString(),
            ["Status"] = c.Status.ToString(),
            ["IssuedAt"] = c.IssuedAt,
        };
        if (c.DailyLimit is { } daily)
        {
            row["DailyLimit"] = daily;
        }

        if (c.MonthlyLimit is { } monthly)
        {
            row["MonthlyLimit"] = monthly;
        }

        if (c.ReplacedBy is { } replacedBy)
        {
            row["ReplacedBy"] = replacedBy;
        }

        return row;
    }

    public static MemberCard FromCardRow(TableEntity row) => new(
        row.Require("CardNumber"),
        Enum.Parse<CardType>(row.Require("Type")),
        Enum.Parse<CardStatus>(row.Require("Status")),
        row.GetDateTimeOffset("IssuedAt") ?? default,
        row.GetInt64("DailyLimit"),
        row.GetInt64("MonthlyLimit"),
        row.GetString("ReplacedBy"));
}
