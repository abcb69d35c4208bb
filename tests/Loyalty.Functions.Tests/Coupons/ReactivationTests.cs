using Loyalty.Storage.Tables;
using Azure.Data.Tables;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Loyalty.Functions.Campaigns;
using Loyalty.Functions.Tests.Support;
using Loyalty.Storage.Notifications;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Loyalty.Functions.Tests.Coupons;

/// <summary>
/// Reactivation end to end on Azurite through HTTP, with seeded members whose last purchase is known: every number of
/// the result is predicted from the seed. The waits (reminder, window) are cut short with the <c>skip-wait</c> event.
/// </summary>
public sealed class ReactivationTests(LoyaltyApp app) : IClassFixture<LoyaltyApp>
{
    private static readonly DateOnly Today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai")).DateTime);

    [Fact]
    public async Task SeededCampaign_DryRunThenRealRun_CountsEveryNumber_AndASecondStartGrantsNothingTwice()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        using var ops = app.Client(await app.KeyForAsync("ops", "hq"));

        // Dormant in the east region (200 days without buying): four, one of them without marketing consent.
        var dormantEast = new List<string>();
        foreach (var (store, consent) in new[] { ("sh-001", true), ("sh-001", true), ("hz-001", true), ("hz-001", false) })
        {
            dormantEast.Add(await SeedAsync(admin, store, consent, lastPurchase: Today.AddDays(-200)));
        }

        var dormantSouth = await SeedAsync(admin, "gz-001", true, lastPurchase: Today.AddDays(-200)); // outside the segment
        var active = await SeedAsync(admin, "sh-001", true, lastPurchase: Today.AddDays(-10));        // bought recently
        var newcomer = await SeedAsync(admin, "sh-001", true, lastPurchase: null);                    // enrolled today, never bought

        var campaign = new
        {
            campaignId = "winback-east",
            noPurchaseDays = 90,
            segment = new { regions = new[] { "east" } },
            offer = new { points = 500 },
            windowDays = 14,
            reminderAfterDays = 7,
            dryRun = true,
        };
        var dry = (await ops.RunOrchestrationAsync(Reactivation.Name, "winback-east-dry", campaign)).GetProperty("output");
        Assert.Equal("dryRun", dry.GetProperty("status").GetString());
        Assert.Equal(4, dry.GetProperty("targeted").GetInt32());
        var unitCost = dry.GetProperty("estimatedCost").GetInt64() / 4;
        Assert.True(unitCost > 0);
        Assert.Equal(0, dry.GetProperty("offered").GetInt32());
        foreach (var member in dormantEast)
        {
            Assert.Equal(0, (await admin.BalancesAsync(member)).Points);
        }

        // The real run, with a budget for three offers: the fourth target is not offered.
        var start = await ops.PostAsync($"/api/orchestrations/{Reactivation.Name}", Real(campaign, budget: 3 * unitCost), null);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var instanceId = (await start.JsonAsync()).GetProperty("id").GetString()!;
        Assert.Equal(Reactivation.InstanceId("winback-east"), instanceId);
        await WaitForPhaseAsync(ops, instanceId, "waitingToRemind");

        var offered = new List<string>();
        foreach (var member in dormantEast)
        {
            if ((await admin.BalancesAsync(member)).Points == 500)
            {
                offered.Add(member);
            }
        }

        Assert.Equal(3, offered.Count);
        Assert.All(new[] { dormantSouth, active, newcomer }, m => Assert.DoesNotContain(m, offered));
        Assert.Equal(0, (await admin.BalancesAsync(dormantSouth)).Points);

        // Two of the offered come back and buy inside the window; the reminder goes to the offered who have not (with consent).
        foreach (var member in offered.Take(2))
        {
            await admin.PostOkAsync("/api/sales", new
            {
                saleId = "S-" + Guid.NewGuid().ToString("N")[..20],
                storeId = "sh-001",
                memberId = member,
                lines = new[] { new { sku = "MILK-1", category = "dairy", quantity = 1, unitPrice = 2_000 } },
            });
        }

        await RaiseSkipAsync(ops, instanceId);
        await WaitForPhaseAsync(ops, instanceId, "waitingForWindow");
        await RaiseSkipAsync(ops, instanceId);
        var result = await FinishedAsync(ops, instanceId);

        var notifications = app.Services.GetRequiredService<NotificationStore>();
        var consenting = offered.Where(m => m != dormantEast[3]).ToList();
        var remindedExpected = offered.Skip(2).Count(m => m != dormantEast[3]);
        Assert.Equal("completed", result.GetProperty("status").GetString());
        Assert.Equal(4, result.GetProperty("targeted").GetInt32());
        Assert.Equal(3, result.GetProperty("offered").GetInt32());
        Assert.Equal(2, result.GetProperty("reactivated").GetInt32());
        Assert.Equal(0.6667, result.GetProperty("rate").GetDouble());
        Assert.Equal(3 * unitCost, result.GetProperty("cost").GetInt64());
        Assert.True(result.GetProperty("budgetReached").GetBoolean());
        Assert.Equal(consenting.Count, result.GetProperty("notified").GetInt32());
        Assert.Equal(remindedExpected, result.GetProperty("reminded").GetInt32());
        foreach (var member in offered)
        {
            var offer = await notifications.GetAsync(member, "winback-east-offer");
            Assert.Equal(member != dormantEast[3], offer is not null);
            var reminder = await notifications.GetAsync(member, "winback-east-reminder");
            Assert.Equal(member != dormantEast[3] && !offered.Take(2).Contains(member), reminder is not null);
        }

        // The same campaign started again under another instance: it finds its grants and grants nothing twice.
        var before = new List<long>();
        foreach (var member in dormantEast)
        {
            before.Add((await admin.BalancesAsync(member)).Points);
        }

        Assert.Equal(HttpStatusCode.Accepted, (await ops.PostAsync($"/api/orchestrations/{Reactivation.Name}?instanceId=winback-east-again", Real(campaign, budget: 3 * unitCost, reminder: false), null)).StatusCode);
        await WaitForPhaseAsync(ops, "winback-east-again", "waitingForWindow");
        await RaiseSkipAsync(ops, "winback-east-again");
        var again = await FinishedAsync(ops, "winback-east-again");
        Assert.Equal((3, 3 * unitCost), (again.GetProperty("offered").GetInt32(), again.GetProperty("cost").GetInt64()));
        for (var i = 0; i < dormantEast.Count; i++)
        {
            Assert.Equal(before[i], (await admin.BalancesAsync(dormantEast[i])).Points);
            Assert.Equal(offered.Contains(dormantEast[i]) ? 1 : 0, (await admin.GetJsonAsync($"/api/members/{dormantEast[i]}/ledger")).GetProperty("items").EnumerateArray()
                .Count(e => e.GetProperty("type").GetString() == "gift"));
        }

        var reconcile = await admin.PostOkAsync("/api/ops/reconcile", new { });
        Assert.True(reconcile.GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task BudgetAboveThePolicy_WaitsForHqApproval_ThenOffersACouponValidForTheGivenDays()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        using var ops = app.Client(await app.KeyForAsync("ops", "hq"));
        using var hq = app.Client(await app.KeyForAsync("hqAdmin", "hq"));
        await admin.PutConfigAsync("coupon-templates", new[] { new { templateId = "welcome-back", name = "回归立减券", kind = "amountOff", amountOff = 1_000, validDays = 30 } });
        var member = await SeedAsync(admin, "gz-001", true, lastPurchase: Today.AddDays(-400));

        var start = await ops.PostAsync($"/api/orchestrations/{Reactivation.Name}", new
        {
            campaignId = "winback-south",
            noPurchaseDays = 365,
            segment = new { stores = new[] { "gz-001" } },
            offer = new { couponTemplateId = "welcome-back", couponValidDays = 7 },
            windowDays = 10,
            budget = 2_000_000,
        }, null);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var instanceId = (await start.JsonAsync()).GetProperty("id").GetString()!;
        var status = await WaitForPhaseAsync(ops, instanceId, "awaitingApproval");
        var approvalId = status.GetProperty("approvalId").GetString()!;
        Assert.Empty((await admin.GetJsonAsync($"/api/members/{member}/coupons")).GetProperty("items").EnumerateArray());

        // Ops may not decide its own campaign's budget; an HQ admin does.
        await (await ops.PostAsync($"/api/approvals/{approvalId}/decision", new { approve = true }, null)).AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden_role");
        Assert.Contains(approvalId, (await hq.GetJsonAsync("/api/approvals?status=pending")).GetProperty("items").EnumerateArray().Select(i => i.GetProperty("approvalId").GetString()));
        Assert.Equal(HttpStatusCode.Accepted, (await hq.PostAsync($"/api/approvals/{approvalId}/decision", new { approve = true }, null)).StatusCode);

        await WaitForPhaseAsync(ops, instanceId, "waitingForWindow");
        await RaiseSkipAsync(ops, instanceId);
        var result = await FinishedAsync(ops, instanceId);

        Assert.Equal((1, 1, 0, 1_000L), (result.GetProperty("targeted").GetInt32(), result.GetProperty("offered").GetInt32(), result.GetProperty("reactivated").GetInt32(), result.GetProperty("cost").GetInt64()));
        Assert.Equal(approvalId, result.GetProperty("approvalId").GetString());
        var coupon = Assert.Single((await admin.GetJsonAsync($"/api/members/{member}/coupons")).GetProperty("items").EnumerateArray());
        var validUntil = coupon.GetProperty("validUntil").GetDateTimeOffset();
        Assert.Equal(Today.AddDays(8), DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(validUntil, TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai")).DateTime));
    }

    [Fact]
    public async Task SkipWait_RepeatedUnderItsIdempotencyKey_SkipsOneWaitOnly()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        using var ops = app.Client(await app.KeyForAsync("ops", "hq"));
        // In the south, 300 days dormant: outside the other tests' campaigns (the east; the south at 365 days).
        await SeedAsync(admin, "gz-001", false, lastPurchase: Today.AddDays(-300));
        var start = await ops.PostAsync($"/api/orchestrations/{Reactivation.Name}?instanceId=skip-once", new
        {
            campaignId = "skip-once",
            noPurchaseDays = 250,
            segment = new { stores = new[] { "gz-001" } },
            offer = new { points = 10 },
            windowDays = 14,
            reminderAfterDays = 7,
        }, null);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        await WaitForPhaseAsync(ops, "skip-once", "waitingToRemind");

        // The first skip ends the wait for the reminder day; the same request again (same key) raises nothing.
        var key = Guid.NewGuid().ToString();
        Assert.Equal(HttpStatusCode.Accepted, (await ops.PostAsync($"/api/orchestrations/skip-once/events/{Reactivation.SkipWaitEvent}", new { }, key)).StatusCode);
        await WaitForPhaseAsync(ops, "skip-once", "waitingForWindow");
        Assert.Equal(HttpStatusCode.Accepted, (await ops.PostAsync($"/api/orchestrations/skip-once/events/{Reactivation.SkipWaitEvent}", new { }, key)).StatusCode);
        await (await ops.PostAsync($"/api/orchestrations/skip-once/events/{Reactivation.SkipWaitEvent}", new { note = "different" }, key))
            .AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "idempotency_key_reused");
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal("waitingForWindow", (await ops.GetJsonAsync("/api/orchestrations/skip-once")).GetProperty("customStatus").GetProperty("phase").GetString());

        // A new request (a new key) skips the window's wait.
        await RaiseSkipAsync(ops, "skip-once");
        Assert.Equal("completed", (await FinishedAsync(ops, "skip-once")).GetProperty("status").GetString());
    }

    [Fact]
    public async Task BadCampaigns_Are400_AndStartNothing()
    {
        using var ops = app.Client(await app.KeyForAsync("ops", "hq"));
        var bad = new object[]
        {
            new { campaignId = "x", noPurchaseDays = 0, offer = new { points = 10 }, windowDays = 7 },
            new { campaignId = "x", noPurchaseDays = 30, offer = new { points = 10, couponTemplateId = "t" }, windowDays = 7 },
            new { campaignId = "x", noPurchaseDays = 30, offer = new { points = 10 }, windowDays = 7, reminderAfterDays = 7 },
            new { campaignId = "bad id!", noPurchaseDays = 30, offer = new { points = 10 }, windowDays = 7 },
            new { campaignId = "x", noPurchaseDays = "many" },
        };
        foreach (var body in bad)
        {
            await (await ops.PostAsync($"/api/orchestrations/{Reactivation.Name}", body, null)).AssertProblemAsync(HttpStatusCode.BadRequest, "campaign_invalid");
        }

        Assert.Equal(HttpStatusCode.NotFound, (await ops.GetAsync($"/api/orchestrations/{Reactivation.InstanceId("x")}")).StatusCode);
    }

    private static object Real(object campaign, long budget, bool reminder = true)
    {
        var json = JsonSerializer.SerializeToNode(campaign)!.AsObject();
        json["dryRun"] = false;
        json["budget"] = budget;
        if (!reminder)
        {
            json.Remove("reminderAfterDays");
        }

        return json;
    }

    private async Task<string> SeedAsync(HttpClient admin, string storeId, bool consent, DateOnly? lastPurchase)
    {
        var body = await admin.PostOkAsync("/api/members", new { phone = LoyaltyApp.NewPhone(), name = "会员" + storeId, storeId, marketingConsent = consent });
        var memberId = body.GetProperty("memberId").GetString()!;
        if (lastPurchase is { } day)
        {
            // The member's purchase statistics as a purchase on that day would have left them.
            var row = (await app.Store.Members.FindEntityAsync(memberId, Storage.Members.MemberStore.AccountRow(memberId)))!;
            row["Stats"] = JsonSerializer.Serialize(new { l = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) });
            await app.Store.Members.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace);
        }

        return memberId;
    }

    private static async Task<JsonElement> WaitForPhaseAsync(HttpClient ops, string instanceId, string phase)
    {
        JsonElement status = default;
        await Api.EventuallyAsync(async () =>
        {
            var state = await ops.GetJsonAsync($"/api/orchestrations/{instanceId}");
            return state.TryGetProperty("customStatus", out status) && status.ValueKind == JsonValueKind.Object
                && status.TryGetProperty("phase", out var current) && current.GetString() == phase;
        }, $"{instanceId} to reach {phase}");
        return status;
    }

    private static async Task RaiseSkipAsync(HttpClient ops, string instanceId) =>
        Assert.Equal(HttpStatusCode.Accepted, (await ops.PostAsync($"/api/orchestrations/{instanceId}/events/{Reactivation.SkipWaitEvent}", new { }, Guid.NewGuid().ToString())).StatusCode);

    private static async Task<JsonElement> FinishedAsync(HttpClient ops, string instanceId)
    {
        JsonElement state = default;
        await Api.EventuallyAsync(async () => (state = await ops.GetJsonAsync($"/api/orchestrations/{instanceId}")).GetProperty("runtimeStatus").GetString() is "Completed" or "Failed", instanceId + " to finish");
        Assert.Equal("Completed", state.GetProperty("runtimeStatus").GetString());
        return state.GetProperty("output");
    }
}
