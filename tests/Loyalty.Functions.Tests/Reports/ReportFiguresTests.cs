using Azure.Storage.Queues;
using Azure.Data.Tables;
using System.Net;
using System.Text.Json;
using Loyalty.Functions.Tests.Support;
using Loyalty.Storage.Config;
using Loyalty.Storage.Reports;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;
using Loyalty.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Loyalty.Functions.Tests.Reports;

/// <summary>Liability, stored-value and consumption figures against the ledger, through refunds, replays and injected failures.</summary>
public sealed class ReportFiguresTests(LoyaltyApp app) : IClassFixture<LoyaltyApp>
{
    private static long Net(JsonElement receipt) =>
        receipt.GetProperty("gross").GetInt64() - receipt.GetProperty("memberDiscount").GetInt64() - receipt.GetProperty("couponDiscount").GetInt64();

    private static long SvPaid(JsonElement receipt) => receipt.GetProperty("storedValuePaid").GetProperty("total").GetInt64();

    [Fact]
    public async Task Figures_FollowTheLedger_ThroughRefunds_AndReplayedFactsCountOnce()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (m1, _) = await app.EnrolAsync("sh-001");
        var (m2, _) = await app.EnrolAsync("hz-001");
        var (m3, _) = await app.EnrolAsync("gz-001");
        var t1 = await admin.PostOkAsync($"/api/members/{m1}/top-ups", new { amount = 10_000, storeId = "sh-001" });
        var t2 = await admin.PostOkAsync($"/api/members/{m2}/top-ups", new { amount = 20_000, storeId = "hz-001", channel = "online" });
        var t3 = await admin.PostOkAsync($"/api/members/{m3}/top-ups", new { amount = 5_000, storeId = "gz-001" });
        var s1 = await admin.PostOkAsync("/api/sales", ReportSales.Sale(m1, "sh-001", 2_550, 2, payWithStoredValue: 3_000));
        var s2 = await admin.PostOkAsync("/api/sales", ReportSales.Sale(m2, "hz-001", 4_000, 3));
        var s3 = await admin.PostOkAsync("/api/sales", ReportSales.Sale(m1, "hz-001", 1_000, 1, payWithStoredValue: 1_000));
        var r2 = await admin.PostOkAsync($"/api/sales/{s2.GetProperty("saleId").GetString()}/refunds", new { refundId = "all" });
        var r3 = await admin.PostOkAsync($"/api/sales/{s3.GetProperty("saleId").GetString()}/refunds", new { refundId = "half", amount = 500 });

        // Stored value by store: what was topped up there (principal and bonus) less what was spent there, plus refunds back.
        long Bonus(JsonElement topUp) => topUp.GetProperty("bonus").GetInt64();
        long Restored(JsonElement refund) => refund.GetProperty("storedValueRestored").GetProperty("total").GetInt64();
        var expectedSv = new Dictionary<string, long>
        {
            ["sh-001"] = 10_000 + Bonus(t1) - SvPaid(s1),
            ["hz-001"] = 20_000 + Bonus(t2) - SvPaid(s3) + Restored(r3),
            ["gz-001"] = 5_000 + Bonus(t3),
        };

        var liability = await EventuallyLiabilityAsync(admin, expectedSv);
        await Api.EventuallyAsync(async () =>
        {
            var total = (await admin.GetJsonAsync("/api/reports/consumption")).GetProperty("total");
            return total.GetProperty("sales").GetInt64() == 3 && total.GetProperty("refunds").GetInt64() == 2 && total.GetProperty("topUps").GetInt64() == 3;
        }, "every sale, refund and top-up is counted");
        liability = await admin.GetJsonAsync("/api/reports/liability");
        var balances = new[] { await admin.BalancesAsync(m1), await admin.BalancesAsync(m2), await admin.BalancesAsync(m3) };
        var total = liability.GetProperty("total");
        Assert.Equal(balances.Sum(b => b.Points), total.GetProperty("points").GetInt64());
        Assert.Equal(balances.Sum(b => b.Principal), total.GetProperty("principal").GetInt64());
        Assert.Equal(balances.Sum(b => b.Bonus), total.GetProperty("bonus").GetInt64());
        var east = liability.GetProperty("byRegion").EnumerateArray().Single(r => r.GetProperty("regionId").GetString() == "east");
        Assert.Equal(expectedSv["sh-001"] + expectedSv["hz-001"], east.GetProperty("liability").GetProperty("storedValue").GetInt64());

        // Consumption per store: sales, refunds and what is left.
        var consumption = await admin.GetJsonAsync("/api/reports/consumption?groupBy=store");
        JsonElement Row(string store) => consumption.GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("key").GetString() == store);
        Assert.Equal(1, Row("sh-001").GetProperty("sales").GetInt64());
        Assert.Equal(Net(s1), Row("sh-001").GetProperty("net").GetInt64());
        Assert.Equal(s1.GetProperty("gross").GetInt64(), Row("sh-001").GetProperty("gross").GetInt64());
        Assert.Equal(2, Row("hz-001").GetProperty("sales").GetInt64());
        Assert.Equal(2, Row("hz-001").GetProperty("refunds").GetInt64());
        Assert.Equal(r2.GetProperty("amount").GetInt64() + 500, Row("hz-001").GetProperty("refundAmount").GetInt64());
        Assert.Equal(Net(s2) + Net(s3) - r2.GetProperty("amount").GetInt64() - 500, Row("hz-001").GetProperty("netAfterRefunds").GetInt64());
        Assert.Equal(SvPaid(s3) - Restored(r3), Row("hz-001").GetProperty("storedValuePaid").GetInt64());
        // Visits are member-days: m1 had already bought today (at sh-001), so only m2's visit counts at hz-001.
        Assert.Equal(1, Row("hz-001").GetProperty("visits").GetInt64());
        Assert.Equal(2, consumption.GetProperty("total").GetProperty("visits").GetInt64());
        Assert.DoesNotContain(consumption.GetProperty("rows").EnumerateArray(), r => r.GetProperty("key").GetString() == "gz-001" && r.GetProperty("sales").GetInt64() != 0);
        Assert.Equal(3, consumption.GetProperty("total").GetProperty("sales").GetInt64());

        // Top-ups by channel and stored-value spend.
        var sv = await admin.GetJsonAsync("/api/reports/stored-value");
        var channels = sv.GetProperty("total").GetProperty("topUps").GetProperty("byChannel").EnumerateArray()
            .ToDictionary(c => c.GetProperty("channel").GetString()!, c => c.GetProperty("principal").GetInt64());
        Assert.Equal(15_000, channels["store_terminal"]);
        Assert.Equal(20_000, channels["online"]);
        Assert.Equal(SvPaid(s1) + SvPaid(s3), sv.GetProperty("total").GetProperty("spend").GetProperty("principal").GetInt64() + sv.GetProperty("total").GetProperty("spend").GetProperty("bonus").GetInt64());

        // Replays: every fact of these members sent again through the queue, and projected again directly (in
        // parallel), counts nothing twice.
        var facts = new List<(string Member, string Row)>();
        foreach (var m in new[] { m1, m2, m3 })
        {
            await foreach (var row in app.Store.Members.QueryAsync<TableEntity>(TableFilter.PartitionRowPrefix(m, ReportFactRows.Prefix)))
            {
                facts.Add((m, row.RowKey));
            }
        }

        Assert.Equal(8, facts.Count); // 3 top-ups, 3 sales, 2 refunds
        var queue = app.Store.Queue(app.Names.ReportFactsQueue);
        foreach (var (member, row) in facts)
        {
            await queue.SendMessageAsync(JsonSerializer.Serialize(new ReportFactMessage(member, row, DateTimeOffset.UtcNow), ConfigJson.Options));
        }

        var projector = app.Services.GetRequiredService<ReportProjector>();
        var again = await Task.WhenAll(facts.SelectMany(f => Enumerable.Range(0, 3).Select(_ => projector.ProjectAsync(f.Member, f.Row))));
        Assert.All(again, r => Assert.Equal(ProjectionResult.AlreadyCounted, r));
        await Api.EventuallyAsync(async () => (await queue.PeekAsync()).Count == 0, "the replayed messages are consumed");
        await Task.Delay(1_500);
        var after = await admin.GetJsonAsync("/api/reports/liability");
        Assert.Equal(total.GetRawText(), after.GetProperty("total").GetRawText());
        var consumptionAfter = await admin.GetJsonAsync("/api/reports/consumption?groupBy=store");
        Assert.Equal(consumption.GetProperty("total").GetRawText(), consumptionAfter.GetProperty("total").GetRawText());
    }

    [Fact]
    public async Task AFactThatNeverCommitted_IsDropped_AndABadMessageIsRefused()
    {
        var projector = app.Services.GetRequiredService<ReportProjector>();
        Assert.Equal(ProjectionResult.Missing, await projector.ProjectAsync("m0000000000000000000000000", ReportFactRows.Prefix + "nothing"));

        // A message for a fact whose transaction failed long ago is consumed without any change (no endless retries).
        var queue = app.Store.Queue(app.Names.ReportFactsQueue);
        await queue.SendMessageAsync(JsonSerializer.Serialize(new ReportFactMessage("m0000000000000000000000000", ReportFactRows.Prefix + "gone", DateTimeOffset.UtcNow.AddHours(-1)), ConfigJson.Options));
        await Api.EventuallyAsync(async () => (await queue.PeekAsync()).Count == 0, "the stale message is consumed");
        Assert.Empty(await app.Store.Queue(app.Names.ReportFactsQueue + "-poison").PeekAsync());
    }

    [Fact]
    public async Task Projector_CommitsAStoresFactsTogether_AndTwoInstancesUnderFaultsCountEachFactOnce()
    {
        // 60 facts of one store (not in the org, so no report of the other tests sees it), each with its own member.
        const string storeId = "zz-projector";
        const int count = 60;
        var day = new DateOnly(2026, 1, 15);
        var facts = Enumerable.Range(1, count).Select(i => (Member: "m" + Guid.NewGuid().ToString("N")[..25], Value: i)).ToList();
        foreach (var (member, value) in facts)
        {
            await app.Store.Members.AddEntityAsync(ReportFactRows.ToRow(member, "op-1", storeId, day, new ReportCounters().Add("probe.n", 1).Add("probe.v", value), DateTimeOffset.UtcNow));
        }

        // Instance A sees the Reports table through a client that can hold commits and inject faults, and the Members
        // table through one that counts the fact reads.
        var tables = app.Services.GetRequiredService<TableServiceClient>();
        var queues = app.Services.GetRequiredService<QueueServiceClient>();
        var plan = new FaultPlan();
        var hold = new TaskCompletionSource();
        var reportsA = new FaultInjectionPolicy(plan) { CommitGate = hold.Task };
        var membersA = new FaultInjectionPolicy(new FaultPlan());
        var projectorA = new ReportProjector(
            new TableStore(
                app.Names,
                name => name == app.Names.Reports ? app.Azurite.TableWith(name, reportsA) : name == app.Names.Members ? app.Azurite.TableWith(name, membersA) : tables.GetTableClient(name),
                queues.GetQueueClient),
            TimeProvider.System);
        var projectorB = app.Services.GetRequiredService<ReportProjector>();
        var factRow = ReportFactRows.Prefix + "op-1";

        // 1. The first half at once on A, the commits held until every fact is read: each store shard's first
        //    transaction waits, the other facts queue up behind it and then share the next one (4 shards, so at most 8
        //    transactions for 30 facts).
        var firstRun = Task.WhenAll(facts.Take(count / 2).Select(f => projectorA.ProjectAsync(f.Member, factRow)));
        // (A projection that fails before its read would leave the count short for ever: then its error is the answer.)
        await Api.EventuallyAsync(() => Task.FromResult(membersA.Reads == count / 2 || firstRun.IsFaulted), "every fact is read");
        Assert.False(firstRun.IsFaulted, $"A projection failed before every fact was read ({membersA.Reads} read): {firstRun.Exception?.GetBaseException()}");
        await Task.Delay(200);
        hold.SetResult();
        var first = await firstRun;
        Assert.All(first, r => Assert.Equal(ProjectionResult.Counted, r));
        Assert.InRange(reportsA.Transactions, 1, 2 * ReportProjector.Shards);

        // 2. Every fact on both instances at once, A failing half its commits (before, or after with the answer lost);
        //    a failed call is retried as its message would be.
        plan.Reseed(5);
        plan.Rate = 0.5;
        plan.Enabled = true;
        async Task<ProjectionResult?> Deliver(ReportProjector projector, string member)
        {
            for (var attempt = 0; attempt < 30; attempt++)
            {
                try
                {
                    return await projector.ProjectAsync(member, factRow);
                }
                catch (Exception ex) when (ex is Azure.RequestFailedException or OperationCanceledException)
                {
                    // Redelivered.
                }
            }

            return null;
        }

        var second = await Task.WhenAll(facts.SelectMany(f => new[] { projectorA, projectorB }.Select(async p => (f.Member, f.Value, Result: await Deliver(p, f.Member)))));
        plan.Enabled = false;
        Assert.True(plan.Injected.Values.Sum() > 0, "faults were injected");
        Assert.DoesNotContain(second, r => r.Result is null or ProjectionResult.Missing);
        Assert.DoesNotContain(second, r => r.Value <= count / 2 && r.Result == ProjectionResult.Counted);
        Assert.All(second.GroupBy(r => r.Member), g => Assert.InRange(g.Count(r => r.Result == ProjectionResult.Counted), 0, 1));

        // Every fact is in the day rows and in the running totals exactly once, with exactly one marker each.
        var rows = new List<TableEntity>();
        await foreach (var row in app.Store.Reports.QueryAsync<TableEntity>(TableFilter.Partition(ReportProjector.StorePartition(storeId))))
        {
            rows.Add(row);
        }

        long Sum(string prefix, string counter) => rows.Where(r => r.RowKey.StartsWith(prefix, StringComparison.Ordinal))
            .Sum(r => ReportCounters.Parse(r.GetString("Counters")).Values.GetValueOrDefault(counter));
        Assert.Equal(count, Sum(ReportProjector.DayPrefix(day), "probe.n"));
        Assert.Equal(count * (count + 1) / 2, Sum(ReportProjector.DayPrefix(day), "probe.v"));
        Assert.Equal(count, Sum(ReportProjector.TotalPrefix, "probe.n"));
        Assert.Equal(count * (count + 1) / 2, Sum(ReportProjector.TotalPrefix, "probe.v"));
        Assert.Equal(count, rows.Count(r => r.RowKey.StartsWith(ReportProjector.MarkerPrefix, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Markers_OfOldDaysArePurged_DayRowsStay_AndAFactTooOldToCountChangesNothing()
    {
        const string storeId = "zz-markers";
        var partition = ReportProjector.StorePartition(storeId);
        var projector = app.Services.GetRequiredService<ReportProjector>();
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var oldDay = today.AddDays(-40);
        var recentDay = today.AddDays(-1);
        async Task<(string Member, string Row)> FactAsync(DateOnly day, DateTimeOffset at, long value)
        {
            var member = "m" + Guid.NewGuid().ToString("N")[..25];
            var row = ReportFactRows.ToRow(member, Guid.NewGuid().ToString("N"), storeId, day, new ReportCounters().Add("probe.v", value), at);
            await app.Store.Members.AddEntityAsync(row);
            return (member, row.RowKey);
        }

        async Task<List<TableEntity>> RowsAsync()
        {
            var rows = new List<TableEntity>();
            await foreach (var row in app.Store.Reports.QueryAsync<TableEntity>(TableFilter.Partition(partition)))
            {
                rows.Add(row);
            }

            return rows;
        }

        // A fact older than the horizon is not counted: it writes nothing, even its marker.
        var tooOld = await FactAsync(oldDay, DateTimeOffset.UtcNow.AddDays(-40), 1);
        Assert.Equal(ProjectionResult.Expired, await projector.ProjectAsync(tooOld.Member, tooOld.Row));
        Assert.Empty(await RowsAsync());

        // Two days counted (the old day's fact written recently, as a late correction would be), then the old day's
        // markers purged: the recent marker, every day row and the totals stay as they were.
        var counted = new[] { await FactAsync(oldDay, DateTimeOffset.UtcNow, 10), await FactAsync(oldDay, DateTimeOffset.UtcNow, 20), await FactAsync(recentDay, DateTimeOffset.UtcNow, 5) };
        foreach (var (member, row) in counted)
        {
            Assert.Equal(ProjectionResult.Counted, await projector.ProjectAsync(member, row));
        }

        var before = await RowsAsync();
        Assert.Equal(2, await projector.PurgeMarkersAsync(storeId, today.AddDays(-ReportProjector.MarkerDaysKept)));
        var after = await RowsAsync();

        var marker = Assert.Single(after, r => r.RowKey.StartsWith(ReportProjector.MarkerPrefix, StringComparison.Ordinal));
        Assert.Equal(ReportProjector.MarkerKey(recentDay.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), counted[2].Member, counted[2].Row), marker.RowKey);
        static IEnumerable<string> Aggregates(List<TableEntity> rows) => rows.Where(r => !r.RowKey.StartsWith(ReportProjector.MarkerPrefix, StringComparison.Ordinal)).Select(r => r.RowKey + "=" + r.GetString("Counters")).Order();
        Assert.Equal(Aggregates(before), Aggregates(after));
        Assert.Equal(35, after.Where(r => r.RowKey.StartsWith(ReportProjector.TotalPrefix, StringComparison.Ordinal)).Sum(r => ReportCounters.Parse(r.GetString("Counters")).Values.GetValueOrDefault("probe.v")));
        Assert.Equal(0, await projector.PurgeMarkersAsync(storeId, today.AddDays(-ReportProjector.MarkerDaysKept)));
    }

    [Fact]
    public async Task PurgeReportMarkers_TheDailyTimer_PurgesOldMarkersOfTheOrgsStores_AndIsInTheCatalogue()
    {
        // Markers written straight into an org store's partition: one of a day past the keeping period, one recent.
        var partition = ReportProjector.StorePartition("gz-001");
        var zone = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Loyalty.Functions.Hosting.LoyaltyOptions>>().Value.ChainTimeZone;
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, zone).DateTime);
        string Key(DateOnly day) => ReportProjector.MarkerKey(day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), "m" + Guid.NewGuid().ToString("N")[..25], ReportFactRows.Prefix + "x");
        var old = Key(today.AddDays(-ReportProjector.MarkerDaysKept - 1));
        var kept = Key(today.AddDays(-ReportProjector.MarkerDaysKept));
        await app.Store.Reports.AddEntityAsync(new TableEntity(partition, old));
        await app.Store.Reports.AddEntityAsync(new TableEntity(partition, kept));

        using (var scope = app.Services.CreateScope())
        {
            await scope.ServiceProvider.GetRequiredService<Loyalty.Functions.Reports.PurgeReportMarkers>().RunAsync(new Loyalty.Functions.Hosting.TimerInvocation(DateTimeOffset.UtcNow, false), CancellationToken.None);
        }

        Assert.Null(await app.Store.Reports.FindEntityAsync(partition, old));
        Assert.NotNull(await app.Store.Reports.FindEntityAsync(partition, kept));
    }

    private static async Task<JsonElement> EventuallyLiabilityAsync(HttpClient admin, Dictionary<string, long> expected)
    {
        JsonElement last = default;
        await Api.EventuallyAsync(async () =>
        {
            last = await admin.GetJsonAsync("/api/reports/liability");
            var byStore = last.GetProperty("byStore").EnumerateArray().ToDictionary(s => s.GetProperty("storeId").GetString()!, s => s.GetProperty("liability").GetProperty("storedValue").GetInt64());
            return expected.All(e => byStore.GetValueOrDefault(e.Key) == e.Value);
        }, "the liability by store follows the operations");
        return last;
    }
}
