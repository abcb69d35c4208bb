using Azure.Data.Tables;
using System.Net;
using System.Text.Json;
using Loyalty.Functions.Tests.Support;
using Loyalty.Storage.Ledger;
using Loyalty.Storage.Tables;
using Loyalty.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Loyalty.Functions.Tests.Ledger;

/// <summary>Its own app: these tests inject faults and delays into the Members table.</summary>
public sealed class FaultInjectedApp : LoyaltyApp
{
    protected override bool LocalTriggers => false;

    protected override bool FaultProxy => true;
}

/// <summary>
/// Run alone, after the parallel tests: the random-operations test keeps Azurite busy for minutes, and alongside it the
/// other classes' workflows took long enough to hit their time-outs in CI.
/// </summary>
[CollectionDefinition("Load", DisableParallelization = true)]
public sealed class LoadRunsAlone;

[Collection("Load")]
public sealed class ExactlyOnceTests(FaultInjectedApp app) : IClassFixture<FaultInjectedApp>
{
    private const int Seeds = 500;

    [Fact]
    public async Task SameKeyWhileTheFirstIsInFlight_409_ThenReplay()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (memberId, _) = await app.EnrolAsync();
        var body = new { amount = 1_000, storeId = "sh-001" };
        var table = app.MembersTable!;
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var before = table.Transactions;
        table.CommitGate = hold.Task;
        try
        {
            // The first request is held at its commit, so it is certainly in flight when the second arrives.
            var first = admin.PostAsync($"/api/members/{memberId}/top-ups", body, "held");
            await Api.EventuallyAsync(() => Task.FromResult(table.Transactions > before || first.IsCompleted), "the first top-up to reach its commit");
            var second = await admin.PostAsync($"/api/members/{memberId}/top-ups", body, "held");

            await second.AssertProblemAsync(HttpStatusCode.Conflict, "idempotency_in_flight");
            hold.SetResult();
            Assert.Equal(HttpStatusCode.Created, (await first).StatusCode);
        }
        finally
        {
            table.CommitGate = null;
            hold.TrySetResult();
        }

        var replay = await admin.PostAsync($"/api/members/{memberId}/top-ups", body, "held");
        Assert.Equal(HttpStatusCode.Created, replay.StatusCode);
        Assert.Contains("true", replay.Headers.GetValues("Idempotent-Replayed"));
        Assert.Equal(1_000, (await admin.BalancesAsync(memberId)).Principal);
    }

    [Fact]
    public async Task RandomOperationsUnderInjectedFaults_BalancesEqualLedger_EveryKeyAppliedOnce()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var members = new string[Seeds];
        for (var i = 0; i < Seeds; i += 50)
        {
            var batch = await Task.WhenAll(Enumerable.Range(i, 50).Select(_ => app.EnrolAsync()));
            for (var j = 0; j < batch.Length; j++)
            {
                members[i + j] = batch[j].MemberId;
            }
        }

        StorageFaultProxy.LedgerViolations.Clear();
        app.Faults.Reseed(20261122);
        app.Faults.Enabled = true;
        var applied = new System.Collections.Concurrent.ConcurrentBag<(string MemberId, string Key)>();
        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, Seeds), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (seed, _) =>
            {
                foreach (var done in await RunSeedAsync(admin, members[seed], seed))
                {
                    applied.Add((members[seed], done));
                }
            });
        }
        finally
        {
            app.Faults.Enabled = false;
        }

        Assert.True(app.Faults.Injected.Where(f => f.Key != Fault.None).Sum(f => f.Value) > Seeds, "faults were injected");
        Assert.All(Enum.GetValues<Fault>().Where(f => f != Fault.None), f => Assert.True(app.Faults.Injected.GetValueOrDefault(f) > 0, $"{f} was injected"));
        var report = await app.Services.GetRequiredService<Reconciler>().RunAsync(members.ToHashSet());
        Assert.Equal(Seeds, report.MembersChecked);
        Assert.Empty(report.Discrepancies);

        // Every key that succeeded is on exactly one ledger row, and no key is on two.
        var keys = new Dictionary<(string, string), int>();
        await foreach (var row in app.Store.Members.QueryAsync<TableEntity>("RowKey ge 'ledger-' and RowKey lt 'ledger.'"))
        {
            if (members.Contains(row.PartitionKey))
            {
                var k = (row.PartitionKey, row.Require("IdempotencyKey"));
                keys[k] = keys.GetValueOrDefault(k) + 1;
                Assert.True(row.GetInt64("PrincipalAfter") >= 0 && row.GetInt64("BonusAfter") >= 0);
            }
        }

        Assert.All(keys, k => Assert.Equal(1, k.Value));
        Assert.All(applied, a => Assert.True(keys.ContainsKey(a), $"{a} succeeded but has no ledger row"));
        Assert.Equal(applied.Count, keys.Count);
        Assert.Empty(StorageFaultProxy.LedgerViolations);
    }

    [Theory]
    [InlineData(Fault.UnavailableAfterCommit)]
    [InlineData(Fault.TimeoutAfterCommit)]
    public async Task ResponseLostAfterCommit_RetryThatWouldNowBeRefused_ReplaysTheSuccess(Fault fault)
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (memberId, _) = await app.EnrolAsync();
        await admin.PostOkAsync($"/api/members/{memberId}/adjustments", new { points = 100, reason = "seed" });

        app.Faults.ForceNext(fault);
        var lost = await admin.PostAsync($"/api/members/{memberId}/redemptions", new { points = 100, storeId = "sh-001" }, "spend-all");
        var retry = await admin.PostAsync($"/api/members/{memberId}/redemptions", new { points = 100, storeId = "sh-001" }, "spend-all");

        await lost.AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "storage_unavailable");
        Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
        Assert.Contains("true", retry.Headers.GetValues("Idempotent-Replayed"));
        Assert.Equal(0, (await admin.BalancesAsync(memberId)).Points);
        Assert.Equal(2, await admin.LedgerCountAsync(memberId));
    }

    [Fact]
    public async Task Reconcile_ReportsATamperedAccount()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (memberId, _) = await app.EnrolAsync();
        await admin.PostOkAsync($"/api/members/{memberId}/top-ups", new { amount = 1_000, storeId = "sh-001" });
        var account = (await app.Store.Members.FindEntityAsync(memberId, Storage.Members.MemberStore.AccountRow(memberId)))!;
        account["Principal"] = 999_999L;
        await app.Store.Members.UpdateEntityAsync(account, account.ETag, TableUpdateMode.Replace);

        var report = await admin.PostAsync("/api/ops/reconcile", new { }, null);
        var body = await report.JsonAsync();

        Assert.False(body.GetProperty("ok").GetBoolean());
        // The balance disagrees with the ledger (and with the stored-value lots, which is reported as well).
        var problems = body.GetProperty("discrepancies").EnumerateArray().Where(d => d.GetProperty("memberId").GetString() == memberId).Select(d => d.GetProperty("problem").GetString()!).ToList();
        Assert.Contains(problems, p => p.Contains("999999", StringComparison.Ordinal) && p.Contains("ledger sums 0/1000/0", StringComparison.Ordinal));
        Assert.All(problems, p => Assert.Contains("999999", p, StringComparison.Ordinal));

        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        await (await terminal.PostAsync("/api/ops/reconcile", new { }, null)).AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden_role");
    }

    /// <summary>A random sequence of operations for one member, each retried like a till would until it gets a final answer.</summary>
    private static async Task<List<string>> RunSeedAsync(HttpClient client, string memberId, int seed)
    {
        var random = new Random(seed);
        var done = new List<string>();
        var sales = new List<string>();
        for (var op = 0; op < 10; op++)
        {
            var key = $"s{seed}-op{op}";
            (string Url, object Body) request = random.Next(6) switch
            {
                0 or 1 => ($"/api/members/{memberId}/top-ups", new { amount = random.Next(1, 80) * 1_000, storeId = "sh-001" }),
                2 => SaleRequest(memberId, $"S{seed}-{op}", random, sales),
                3 when sales.Count > 0 => ($"/api/sales/{sales[random.Next(sales.Count)]}/refunds", random.Next(2) == 0
                    ? new { refundId = $"R{op}", amount = (long?)random.Next(1, 3_000) }
                    : new { refundId = $"R{op}", amount = (long?)null }),
                4 => ($"/api/members/{memberId}/redemptions", new { points = random.Next(1, 200), storeId = "sh-001" }),
                _ => ($"/api/members/{memberId}/adjustments", new { points = random.Next(-100, 400) is var p && p != 0 ? p : 1, reason = "fault test" }),
            };

            for (var attempt = 0; ; attempt++)
            {
                var response = await client.SendAsync(Api.Json(HttpMethod.Post, request.Url, JsonSerializer.Serialize(request.Body), key));
                var status = (int)response.StatusCode;
                if (status is 200 or 201)
                {
                    done.Add(key);
                    break;
                }

                // 503 (storage) and 409 in flight / contention are the retryable answers; 4xx business refusals are final.
                var retryable = status == 503 || (status == 409 && (await response.Content.ReadAsStringAsync()).Contains("\"idempotency_in_flight\"", StringComparison.Ordinal));
                Assert.True(retryable || status is 404 or 409 or 422, $"{request.Url} answered {status}: {await response.Content.ReadAsStringAsync()}");
                if (!retryable)
                {
                    break;
                }

                Assert.True(attempt < 50, "too many retries");
            }
        }

        return done;
    }

    private static (string, object) SaleRequest(string memberId, string saleId, Random random, List<string> sales)
    {
        sales.Add(saleId);
        var price = random.Next(1, 100) * 100;
        return ("/api/sales", new
        {
            saleId, storeId = "sh-001", memberId,
            lines = new[] { new { sku = "A", category = "food", quantity = random.Next(1, 4), unitPrice = price } },
            payWithStoredValue = random.Next(3) == 0 ? (long?)random.Next(0, price) : null,
        });
    }
}
