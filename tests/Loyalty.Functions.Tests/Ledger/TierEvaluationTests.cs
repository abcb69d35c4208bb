using Azure.Data.Tables;
using Loyalty.Storage.Tables;
using Loyalty.Testing;
using System.Net;
using System.Net.Http.Json;
using Loyalty.Domain.Programme;
using Loyalty.Functions.Programme;
using Loyalty.Functions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Loyalty.Functions.Tests.Ledger;

/// <summary>The app with downgrades on (3 grace days) and new members starting with 1,000 fen of progress.</summary>
public sealed class DowngradeApp : LoyaltyApp
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        using var admin = Client(AdminKey);
        await admin.PutConfigAsync("tiers", new object[]
        {
            new { code = "standard", name = "普通会员", pricePercent = 10_000, pointsMultiplierPercent = 100 },
            new { code = "silver", name = "白银会员", pricePercent = 9_800, pointsMultiplierPercent = 120, threshold = 5_000 },
            new { code = "gold", name = "黄金会员", pricePercent = 9_500, pointsMultiplierPercent = 150, threshold = 1_000_000 },
        });
        await admin.PutConfigAsync("tier-policy", new { basis = "qualifyingSpend", period = "rolling12Months", downgrade = true, graceDays = 3, startingProgress = 1_000 });
    }

}

public sealed class TierEvaluationTests(DowngradeApp app) : IClassFixture<DowngradeApp>
{
    private static readonly TimeZoneInfo Shanghai = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");

    private static DateOnly ThisMonth
    {
        get
        {
            var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, Shanghai).DateTime);
            return new DateOnly(today.Year, today.Month, 1);
        }
    }

    private static DateTimeOffset At(DateOnly day) => new(TimeZoneInfo.ConvertTimeToUtc(day.ToDateTime(new TimeOnly(3, 0)), Shanghai), TimeSpan.Zero);

    private static object Sale(string memberId, int quantity = 1) => new
    {
        saleId = "S-" + Guid.NewGuid().ToString("N")[..20],
        storeId = "sh-001",
        memberId,
        lines = new[] { new { sku = "MILK", category = "dairy", quantity, unitPrice = 4_000 } },
    };

    private static async Task<string> TierAsync(HttpClient client, string memberId) =>
        (await client.GetJsonAsync($"/api/members/{memberId}")).GetProperty("tier").GetString()!;

    [Fact]
    public async Task StartingProgress_HelpsTheFirstPurchaseUpgrade_ThenThePeriodEndDropsAMemberWhoStoppedBuying()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (memberId, _) = await app.EnrolAsync();
        var evaluation = app.Services.GetRequiredService<TierEvaluation>();

        var receipt = await admin.PostOkAsync("/api/sales", Sale(memberId)); // 4,000 + 1,000 starting progress
        Assert.Equal("silver", receipt.GetProperty("upgradedTo").GetString());

        // Within this period, and within the grace days of the next one, nothing moves; at the next period end the
        // member's purchases of this month still count.
        await evaluation.RunAsync(At(ThisMonth.AddDays(5)), CancellationToken.None);
        var beforeGrace = await evaluation.RunAsync(At(ThisMonth.AddMonths(1).AddDays(1)), CancellationToken.None);
        var next = await evaluation.RunAsync(At(ThisMonth.AddMonths(1).AddDays(3)), CancellationToken.None);
        Assert.Equal(0, beforeGrace.Evaluated);
        Assert.True(next.Evaluated >= 1);
        Assert.Equal("silver", await TierAsync(admin, memberId));

        // Thirteen months on, the rolling window holds nothing: down to the tier the progress supports.
        var later = await evaluation.RunAsync(At(ThisMonth.AddMonths(13).AddDays(3)), CancellationToken.None);
        var again = await evaluation.RunAsync(At(ThisMonth.AddMonths(13).AddDays(4)), CancellationToken.None);
        Assert.True(later.Downgraded >= 1);
        Assert.Equal(0, again.Downgraded);
        Assert.Equal("standard", await TierAsync(admin, memberId));
        Assert.Null(await app.Store.Schedules.FindEntityAsync(TierEvaluation.Partition, memberId));
    }

    [Fact]
    public async Task AManuallyGrantedTier_IsAFloor_UnlessGrantedWithoutOne()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (withFloor, _) = await app.EnrolAsync();
        var (withoutFloor, _) = await app.EnrolAsync();

        var granted = await admin.SendAsync(Put($"/api/members/{withFloor}/tier", new { tier = "gold", reason = "VIP customer" }, "t1"));
        var corrected = await admin.SendAsync(Put($"/api/members/{withoutFloor}/tier", new { tier = "gold", reason = "trial", floor = false }, "t2"));
        Assert.Equal(HttpStatusCode.OK, granted.StatusCode);
        Assert.Equal("gold", (await granted.JsonAsync()).GetProperty("floor").GetString());
        Assert.Equal(HttpStatusCode.OK, corrected.StatusCode);

        // Move the grants into the past, as if made long before the period under review.
        foreach (var id in new[] { withFloor, withoutFloor })
        {
            var account = (await app.Store.Members.FindEntityAsync(id, Storage.Members.MemberStore.AccountRow(id)))!;
            account["TierSince"] = "2000-01-01";
            await app.Store.Members.UpdateEntityAsync(account, account.ETag, TableUpdateMode.Replace);
        }

        await app.Services.GetRequiredService<TierEvaluation>().RunAsync(At(ThisMonth.AddMonths(1).AddDays(5)), CancellationToken.None);

        Assert.Equal("gold", await TierAsync(admin, withFloor));
        Assert.Equal("standard", await TierAsync(admin, withoutFloor));
    }

    [Fact]
    public async Task SetTier_IsForHqAndOps_AndChecksItsInput()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        using var manager = app.Client(await app.KeyForAsync("storeManager", "sh-001"));
        var (memberId, _) = await app.EnrolAsync();

        await (await admin.SendAsync(Put($"/api/members/{memberId}/tier", new { tier = "diamond", reason = "x" }, "a"))).AssertProblemAsync(HttpStatusCode.BadRequest, "tier_unknown");
        await (await admin.SendAsync(Put($"/api/members/{memberId}/tier", new { tier = "gold" }, "b"))).AssertProblemAsync(HttpStatusCode.BadRequest, "reason_required");
        await (await manager.SendAsync(Put($"/api/members/{memberId}/tier", new { tier = "gold", reason = "x" }, "c"))).AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden_role");
        await (await admin.SendAsync(Put("/api/members/M0000000000NO/tier", new { tier = "gold", reason = "x" }, "d"))).AssertProblemAsync(HttpStatusCode.NotFound, "member_not_found");
        Assert.Equal("standard", await TierAsync(admin, memberId));
    }

    [Fact]
    public async Task EntryOnFirstPurchase_LeavesNewMembersWithoutATier_UntilTheyBuy()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        await admin.PutConfigAsync("tier-policy", new { downgrade = true, graceDays = 3, entryOn = "firstPurchase" });
        try
        {
            var (memberId, _) = await app.EnrolAsync();
            Assert.Equal(string.Empty, await TierAsync(admin, memberId));

            var receipt = await admin.PostOkAsync("/api/sales", Sale(memberId));

            Assert.Equal("standard", receipt.GetProperty("tier").GetString()); // priced as the entry tier
            Assert.Equal("standard", await TierAsync(admin, memberId));
        }
        finally
        {
            await admin.PutConfigAsync("tier-policy", new { basis = "qualifyingSpend", period = "rolling12Months", downgrade = true, graceDays = 3, startingProgress = 1_000 });
        }
    }

    private static HttpRequestMessage Put(string url, object body, string key) => Api.Json(HttpMethod.Put, url, System.Text.Json.JsonSerializer.Serialize(body), key);

    [Fact]
    public void Evaluation_NeverRaisesATier_AndRespectsTheFloor()
    {
        var tiers = ProgrammeRules.DefaultTiers;

        Assert.Equal("silver", TierProgress.AfterPeriodEnd(tiers, "gold", null, 150_000).Code);
        Assert.Equal("gold", TierProgress.AfterPeriodEnd(tiers, "gold", "gold", 0).Code);
        Assert.Equal("silver", TierProgress.AfterPeriodEnd(tiers, "silver", null, 9_000_000).Code);
        Assert.Equal("standard", TierProgress.AfterPeriodEnd(tiers, "platinum", null, 0).Code);
    }
}
