using Azure;
using Azure.Data.Tables;
using Loyalty.Domain.Ledger;
using Loyalty.Storage.Events;
using Loyalty.Storage.Ledger;
using Xunit;

namespace Loyalty.Storage.Tests.Events;

/// <summary>What a member transaction's writes say, as events: each kind of write gives its event, in the documented order.</summary>
public sealed class TransactionEventsTests
{
    private static readonly AccountState Before = new("M1", new Balances(500, 1_000, 100), "silver", 8, 1, ETag.All) { ManualTags = "vip" };
    private static readonly DateTimeOffset At = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);

    private static LedgerEntry Entry(LedgerEntryType type, long points, long principal = 0, long bonus = 0) =>
        new(8, type, type.ToString().ToLowerInvariant(), points, principal, bonus, "sh-001", "t", "k", At, "S-1", null, null);

    private static WriteDecision Write(Func<string, IReadOnlyList<TableTransactionAction>>? rows = null) =>
        new(null, _ => new { }, rows ?? WriteDecision.None);

    private static List<string> Types(List<EventDraft> events) => [.. events.Select(e => e.Type)];

    [Fact]
    public void ASale_SaysSaleRecorded_ThenStoredValueSpent_ThenPointsRedeemedAndEarnedApart()
    {
        var sale = new TableEntity("M1", "sale-S-1");
        var events = TransactionEvents.Derive(
            Before,
            [(Entry(LedgerEntryType.Sale, 40, -2_000, -200), new LedgerChange(40, -2_000, -200, PointsSpent: 60), new Balances(540, 0, 0))],
            Write(),
            [new(TableTransactionActionType.Add, sale)],
            """{"saleId":"S-1","amount":2200}""");

        Assert.Equal(["sale.recorded", "stored_value.spent", "points.redeemed", "points.earned"], Types(events));
        Assert.Equal("S-1", events[0].Data["saleId"]!.GetValue<string>());
        Assert.Equal(2200, events[0].Data["receipt"]!["amount"]!.GetValue<int>());
        Assert.Equal(-2_000, events[1].Data["principal"]!.GetValue<long>());
        Assert.Equal(-60, events[2].Data["points"]!.GetValue<long>());
        Assert.Equal(100, events[3].Data["points"]!.GetValue<long>());
        Assert.Equal(540, events[3].Data["balances"]!["points"]!.GetValue<long>());
    }

    [Theory]
    [InlineData(LedgerEntryType.TopUp, 0, 10_000, "stored_value.topped_up")]
    [InlineData(LedgerEntryType.StoredValueRefund, 0, -3_000, "stored_value.refunded")]
    [InlineData(LedgerEntryType.Opening, 0, 5_000, "stored_value.opened")]
    [InlineData(LedgerEntryType.Expiry, -70, 0, "points.expired")]
    [InlineData(LedgerEntryType.Adjustment, 300, 0, "points.adjusted")]
    [InlineData(LedgerEntryType.Refund, -40, 0, "points.adjusted")]
    [InlineData(LedgerEntryType.Gift, -120, 0, "points.adjusted")]
    [InlineData(LedgerEntryType.Gift, 200, 0, "points.earned")]
    [InlineData(LedgerEntryType.Bonus, 10, 0, "points.earned")]
    [InlineData(LedgerEntryType.Redemption, -100, 0, "points.redeemed")]
    public void EachLedgerEntry_HasItsEvent(LedgerEntryType type, long points, long principal, string expected)
    {
        var change = new LedgerChange(points, principal, 0, PointsSpent: type == LedgerEntryType.Redemption ? -points : 0);
        var events = TransactionEvents.Derive(Before, [(Entry(type, points, principal), change, new Balances(1, 2, 3))], Write(), [], "{}");
        Assert.Equal([expected], Types(events));
    }

    [Fact]
    public void CouponsCardsTierAndTags_HaveTheirEvents_AfterTheLedgers()
    {
        TableEntity Coupon(string state) => new("M1", "coupon-ABCD2345EFGH") { ["State"] = state, ["TemplateId"] = "t10", ["Source"] = "upgrade:gold", ["FaceValue"] = 1_000L };
        IReadOnlyList<TableTransactionAction> rows =
        [
            new(TableTransactionActionType.Add, Coupon("Issued")),
            new(TableTransactionActionType.UpdateReplace, Coupon("Redeemed")),
            new(TableTransactionActionType.UpdateReplace, Coupon("Revoked")),
            new(TableTransactionActionType.UpdateReplace, new TableEntity("M1", "card-8860000000000017") { ["CardNumber"] = "8860000000000017", ["Type"] = "Personal", ["Status"] = "Frozen" }),
            new(TableTransactionActionType.Add, new TableEntity("M1", "card-8860000000000025") { ["CardNumber"] = "8860000000000025", ["Type"] = "Supplementary", ["Status"] = "Active" }),
            new(TableTransactionActionType.Add, new TableEntity("M1", "audit-1")),
        ];
        var write = Write(_ => rows) with { Tier = "gold", ManualTags = "vip,family", PaidMembership = ("gold", At.AddYears(1)) };
        var events = TransactionEvents.Derive(Before, [(Entry(LedgerEntryType.Gift, 200), new LedgerChange(200, 0, 0), new Balances(700, 1_000, 100))], write, rows, "{}");

        Assert.Equal(
            ["points.earned", "coupon.issued", "coupon.redeemed", "coupon.revoked", "card.status_changed", "card.issued", "tier.changed", "membership.purchased", "member.updated"],
            Types(events));
        Assert.Equal("revoked", events[3].Data["state"]!.GetValue<string>());
        Assert.Equal("frozen", events[4].Data["status"]!.GetValue<string>());
        Assert.Equal(("silver", "gold"), (events[6].Data["from"]!.GetValue<string>(), events[6].Data["to"]!.GetValue<string>()));
        Assert.Equal(["vip", "family"], events[8].Data["manualTags"]!.AsArray().Select(t => t!.GetValue<string>()));
    }

    [Fact]
    public void ASaleOnALimitedCard_UpdatesItsSpendingCounters_WithoutACardEvent()
    {
        var card = new TableEntity("M1", "card-8860000000000025") { ["CardNumber"] = "8860000000000025", ["Type"] = "Supplementary", ["Status"] = "Active", ["SpentToday"] = 500L, ["SpentDay"] = "2026-12-01" };
        var events = TransactionEvents.Derive(Before, [], Write(), [new(TableTransactionActionType.UpdateReplace, card, ETag.All)], "{}");
        Assert.Empty(events);
    }

    [Fact]
    public void AReceiptTooLargeForAnEvent_IsLeftOut()
    {
        var body = "{\"lines\":\"" + new string('x', TransactionEvents.MaxReceiptChars) + "\"}";
        var events = TransactionEvents.Derive(Before, [], Write(), [new(TableTransactionActionType.Add, new TableEntity("M1", "sale-S-9"))], body);
        Assert.True(events[0].Data["receipt"]!["omitted"]!.GetValue<bool>());
        Assert.Equal("S-9", events[0].Data["saleId"]!.GetValue<string>());
    }

    [Fact]
    public void NothingChanged_NoEvent()
    {
        var same = Write() with { Tier = "silver", ManualTags = "vip" };
        Assert.Empty(TransactionEvents.Derive(Before, [], same, [], "{}"));
    }

    [Fact]
    public void AnOutboxRow_KeepsItsEvents_WithStableIdsAndSequences_AcrossParts()
    {
        // Large data spreads over several properties (each at most 64 KiB) and reads back whole.
        var big = new string('x', 70_000);
        var drafts = new List<EventDraft> { new("sale.recorded", new System.Text.Json.Nodes.JsonObject { ["note"] = big }), new("points.earned", new System.Text.Json.Nodes.JsonObject { ["points"] = 5 }) };
        var row = OutboxRows.ToRow("M1", "M1", 12, drafts, At, previous: OutboxRows.Key("M1", 9));
        Assert.Equal("out-000000000012-M1", row.RowKey);
        Assert.Equal("out-000000000009-M1", row.GetString("Previous"));
        Assert.NotNull(row.GetBinary("Events1"));

        var read = OutboxRows.FromRow(row);
        Assert.Equal(["M1-12", "M1-13"], read.Select(e => e.Id));
        Assert.Equal([12L, 13L], read.Select(e => e.Sequence));
        Assert.Equal(big, read[0].Data["note"]!.GetValue<string>());
        Assert.Equal(12, OutboxRows.SequenceOf(row.RowKey));
    }
}
