using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Loyalty.Domain.Events;
using Loyalty.Domain.Ledger;
using Loyalty.Storage.Coupons;
using Loyalty.Storage.Ledger;
using Loyalty.Storage.Members;

namespace Loyalty.Storage.Events;

/// <summary>
/// The events of one member transaction, read off what it writes: its ledger entries, the sale, refund, card and coupon
/// rows among its other rows, and the account's tier, tags and paid membership. Deriving them from the writes (not from
/// each handler) keeps every operation covered and means an event can never say something the commit did not do.
/// </summary>
public static class TransactionEvents
{
    /// <summary>The events of a transaction, in the order a consumer should apply them.</summary>
    public static List<EventDraft> Derive(
        AccountState before,
        IReadOnlyList<(LedgerEntry Entry, LedgerChange Change, Balances After)> entries,
        WriteDecision write,
        IReadOnlyList<TableTransactionAction> rows,
        string body)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(write);
        ArgumentNullException.ThrowIfNull(rows);
        var events = new List<EventDraft>();
        foreach (var action in rows)
        {
            if (action.Entity is TableEntity row && action.ActionType == TableTransactionActionType.Add)
            {
                if (row.RowKey.StartsWith(MemberRows.SalePrefix, StringComparison.Ordinal))
                {
                    events.Add(new(EventCatalogue.SaleRecorded, new JsonObject { ["saleId"] = row.RowKey[MemberRows.SalePrefix.Length..], ["receipt"] = Receipt(body) }));
                }
                else if (row.RowKey.StartsWith(MemberRows.RefundPrefix, StringComparison.Ordinal))
                {
                    events.Add(new(EventCatalogue.SaleRefunded, new JsonObject { ["receipt"] = Receipt(body) }));
                }
            }
        }

        foreach (var (entry, change, after) in entries)
        {
            AddLedgerEvents(events, entry, change, after);
        }

        foreach (var action in rows)
        {
            if (action.Entity is not TableEntity row)
            {
                continue;
            }

            if (row.RowKey.StartsWith(CouponStore.RowPrefix, StringComparison.Ordinal) && row.GetString("State") is { } state)
            {
                var type = (action.ActionType, state) switch
                {
                    (TableTransactionActionType.Add, "Issued") => EventCatalogue.CouponIssued,
                    (TableTransactionActionType.UpdateReplace, "Redeemed" or "Issued") => EventCatalogue.CouponRedeemed,
                    (TableTransactionActionType.UpdateReplace, "Revoked") => EventCatalogue.CouponRevoked,
                    _ => null,
                };
                if (type is not null)
                {
                    events.Add(new(type, new JsonObject
                    {
                        ["code"] = row.RowKey[CouponStore.RowPrefix.Length..],
                        ["state"] = JsonNamingPolicy.CamelCase.ConvertName(state),
                        ["templateId"] = row.GetString("TemplateId"),
                        ["source"] = row.GetString("Source"),
                        ["faceValue"] = row.GetInt64("FaceValue"),
                        ["validUntil"] = row.GetDateTimeOffset("ValidUntil"),
                    }));
                }
            }
            else if (row.RowKey.StartsWith(MemberRows.CardPrefix, StringComparison.Ordinal) && row.GetString("Status") is { } status &&
                     !(action.ActionType != TableTransactionActionType.Add && row.ContainsKey("SpentToday")))
            {
                // (A card row replaced with its spending counters is a sale using a limited card, not a status change:
                // card operations write the card afresh.)
                var data = new JsonObject
                {
                    ["cardNumber"] = row.GetString("CardNumber"),
                    ["cardType"] = JsonNamingPolicy.CamelCase.ConvertName(row.GetString("Type") ?? string.Empty),
                    ["status"] = JsonNamingPolicy.CamelCase.ConvertName(status),
                    ["replacedBy"] = row.GetString("ReplacedBy"),
                };
                events.Add(new(action.ActionType == TableTransactionActionType.Add ? EventCatalogue.CardIssued : EventCatalogue.CardStatusChanged, data));
            }
        }

        if (write.Tier is { } tier && tier != before.Tier)
        {
            events.Add(new(EventCatalogue.TierChanged, new JsonObject { ["from"] = before.Tier, ["to"] = tier }));
        }

        if (write.PaidMembership is { } paid)
        {
            events.Add(new(EventCatalogue.MembershipPurchased, new JsonObject { ["tier"] = paid.Tier, ["until"] = paid.Until }));
        }

        var tagsChanged = (write.ManualTags is { } manual && manual != (before.ManualTags ?? string.Empty)) ||
                          (write.AutoTags is { } auto && auto != (before.AutoTags ?? string.Empty));
        if (tagsChanged || write.PaidMembership is not null)
        {
            events.Add(new(EventCatalogue.MemberUpdated, new JsonObject
            {
                ["manualTags"] = Tags(write.ManualTags ?? before.ManualTags),
                ["autoTags"] = Tags(write.AutoTags ?? before.AutoTags),
                ["paidTier"] = write.PaidMembership?.Tier ?? before.PaidTier,
                ["paidUntil"] = write.PaidMembership?.Until ?? before.PaidUntil,
            }));
        }

        return events;
    }

    private static void AddLedgerEvents(List<EventDraft> events, LedgerEntry entry, LedgerChange change, Balances after)
    {
        var value = entry.Principal + entry.Bonus;
        if (value != 0)
        {
            var type = entry.Type switch
            {
                LedgerEntryType.TopUp => EventCatalogue.StoredValueToppedUp,
                LedgerEntryType.Opening => EventCatalogue.StoredValueOpened,
                LedgerEntryType.StoredValueRefund or LedgerEntryType.Refund => EventCatalogue.StoredValueRefunded,
                _ when value > 0 => EventCatalogue.StoredValueRefunded,
                _ => EventCatalogue.StoredValueSpent,
            };
            events.Add(new(type, Entry(entry, after)));
        }

        if (entry.Points == 0 && change.PointsTaken == 0)
        {
            return;
        }

        switch (entry.Type)
        {
            case LedgerEntryType.Expiry:
                events.Add(new(EventCatalogue.PointsExpired, Entry(entry, after)));
                break;
            case LedgerEntryType.Adjustment or LedgerEntryType.Refund:
                events.Add(new(EventCatalogue.PointsAdjusted, Entry(entry, after)));
                break;
            case LedgerEntryType.Gift when entry.Points < 0:
                events.Add(new(EventCatalogue.PointsAdjusted, Entry(entry, after)));
                break;
            case LedgerEntryType.Redemption:
                events.Add(new(EventCatalogue.PointsRedeemed, Entry(entry, after)));
                break;
            default:
                // A sale both spends and earns: one event for each side, with its own amount.
                if (change.PointsTaken > 0)
                {
                    events.Add(new(EventCatalogue.PointsRedeemed, Entry(entry, after, -change.PointsTaken)));
                }

                if (change.PointsAdded > 0)
                {
                    events.Add(new(EventCatalogue.PointsEarned, Entry(entry, after, change.PointsAdded)));
                }

                break;
        }
    }

    private static JsonObject Entry(LedgerEntry entry, Balances after, long? points = null) => new()
    {
        ["ledgerSeq"] = entry.Seq,
        ["entryType"] = JsonNamingPolicy.CamelCase.ConvertName(entry.Type.ToString()),
        ["reason"] = entry.Reason,
        ["storeId"] = entry.StoreId,
        ["reference"] = entry.Reference,
        ["points"] = points ?? entry.Points,
        ["principal"] = entry.Principal,
        ["bonus"] = entry.Bonus,
        ["balances"] = new JsonObject { ["points"] = after.Points, ["principal"] = after.Principal, ["bonus"] = after.Bonus },
    };

    /// <summary>Receipts larger than this are left out of the event (a sale of many lines): an event stays well within a queue message, a Service Bus message and a delivery-log row.</summary>
    public const int MaxReceiptChars = 24_000;

    private static JsonNode? Receipt(string body)
    {
        if (body.Length > MaxReceiptChars)
        {
            return new JsonObject { ["omitted"] = true, ["reason"] = $"larger than {MaxReceiptChars} characters; read the sale" };
        }

        try
        {
            return JsonNode.Parse(body);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static JsonArray Tags(string? csv) =>
        [.. (csv ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(t => (JsonNode)JsonValue.Create(t))];
}
