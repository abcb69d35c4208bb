using Azure.Data.Tables;
using Loyalty.Storage.Tables;
using Loyalty.Testing;
using System.Net;
using System.Text.Json;
using Loyalty.Functions.Tests.Support;
using Xunit;

namespace Loyalty.Functions.Tests.Reports;

/// <summary>Tier distribution, spend distribution, dormancy, repurchase and benefit usage over a seeded chain.</summary>
public sealed class ProgrammeHealthTests(LoyaltyApp app) : IClassFixture<LoyaltyApp>
{
    private static object Sale(string memberId, long amount, string[]? coupons = null) => new
    {
        saleId = "S-" + Guid.NewGuid().ToString("N")[..16],
        storeId = "sh-001",
        memberId,
        lines = new[] { new { sku = "MILK", category = "dairy", quantity = 1, unitPrice = amount } },
        couponCodes = coupons ?? [],
    };

    [Fact]
    public async Task Snapshot_GivesTiersSpendDormancyRepurchase_AndBenefitUsageCountsGrantedAgainstUsed()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        using var hq = app.Client(await app.KeyForAsync("hqAdmin", "hq"));
        await (await hq.GetAsync("/api/reports/tier-distribution")).AssertProblemAsync(HttpStatusCode.Conflict, "snapshot_missing");

        // Every day is a member day; one coupon template.
        await admin.PutConfigAsync("member-days", new[] { new { multiplierPercent = 200, weekdays = new[] { "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday" } } });
        await admin.PutConfigAsync("coupon-templates", new[] { new { templateId = "milk-10", name = "牛奶立减", kind = "amountOff", amountOff = 1_000, minSpend = 5_000, validDays = 30 } });

        var m = new string[4];
        for (var i = 0; i < 4; i++)
        {
            m[i] = (await app.EnrolAsync("sh-001")).MemberId;
        }

        var south = (await app.EnrolAsync("gz-001")).MemberId;
        await admin.PostOkAsync("/api/sales", Sale(m[0], 30_000));
        await admin.PostOkAsync("/api/sales", Sale(m[0], 20_000));
        await admin.PostOkAsync("/api/sales", Sale(m[1], 12_000));
        var issued = await admin.PostOkAsync($"/api/members/{m[2]}/coupons", new { templateId = "milk-10", quantity = 2, storeId = "sh-001" });
        var code = issued.GetProperty("coupons")[0].GetProperty("code").GetString()!;
        await admin.PostOkAsync("/api/sales", Sale(m[2], 6_000, [code]));
        await app.SetTierAsync(m[0], "gold");
        await app.SetTierAsync(m[1], "silver");

        // m[3] last bought long ago: dormant.
        var account = await app.Store.Members.FindEntityAsync(m[3], Storage.Members.MemberStore.AccountRow(m[3]));
        account!["Stats"] = """{"l":"2025-01-01"}""";
        await app.Store.Members.UpdateEntityAsync(account, account.ETag, TableUpdateMode.Replace);

        var summary = await admin.PostOkAsync("/api/ops/reports/snapshot", new { });
        Assert.Equal(5, summary.GetProperty("members").GetInt64());
        Assert.Equal(2, summary.GetProperty("stores").GetInt32());

        var health = await hq.GetJsonAsync("/api/reports/tier-distribution");
        Assert.Equal(5, health.GetProperty("members").GetInt64());
        var tiers = health.GetProperty("tiers").EnumerateArray().ToDictionary(t => t.GetProperty("tier").GetString()!, t => t.GetProperty("members").GetInt64());
        Assert.Equal(new Dictionary<string, long> { ["standard"] = 3, ["silver"] = 1, ["gold"] = 1, ["platinum"] = 0 }, tiers);
        Assert.Equal("silver", health.GetProperty("reachedFirstTier").GetProperty("tier").GetString());
        Assert.Equal(2, health.GetProperty("reachedFirstTier").GetProperty("members").GetInt64());
        Assert.Equal(0.4, health.GetProperty("reachedFirstTier").GetProperty("share").GetDouble());

        // 12-month spend of the buyers: 5,000 (after the coupon), 12,000, 50,000 fen.
        var months12 = health.GetProperty("spend").GetProperty("months12");
        Assert.Equal(3, months12.GetProperty("withSpend").GetInt64());
        Assert.Equal(12_000, months12.GetProperty("medianOfBuyers").GetInt64());
        Assert.Equal(5_000, months12.GetProperty("median").GetInt64());
        var buckets = months12.GetProperty("buckets").EnumerateArray().ToDictionary(b => b.GetProperty("from").GetInt64(), b => b.GetProperty("members").GetInt64());
        Assert.Equal(new Dictionary<long, long> { [0] = 2, [5_000] = 1, [12_000] = 1, [50_000] = 1 }, buckets);
        Assert.Equal([12_000L, 50_000L, 50_000L], health.GetProperty("suggestedThresholds").EnumerateArray().Select(t => t.GetProperty("suggested").GetInt64()));
        Assert.Equal(1, health.GetProperty("dormant").GetProperty("members").GetInt64());
        Assert.Equal(0.2, health.GetProperty("dormant").GetProperty("ratio").GetDouble());
        Assert.Equal(3, health.GetProperty("repurchase").GetProperty("buyers12Months").GetInt64());
        Assert.Equal(1, health.GetProperty("repurchase").GetProperty("repeatBuyers12Months").GetInt64());

        // A store sees its own members only.
        using var gz = app.Client(await app.KeyForAsync("storeManager", "gz-001"));
        var gzHealth = await gz.GetJsonAsync("/api/reports/tier-distribution");
        Assert.Equal(1, gzHealth.GetProperty("members").GetInt64());
        Assert.Equal(0, gzHealth.GetProperty("spend").GetProperty("months12").GetProperty("withSpend").GetInt64());
        _ = south;

        // Benefit usage: 2 coupons granted, 1 used; member days: 30 days x 5 members offered, 3 members used one today.
        JsonElement usage = default;
        await Api.EventuallyAsync(async () =>
        {
            usage = await hq.GetJsonAsync("/api/reports/benefit-usage");
            return usage.GetProperty("benefits").EnumerateArray().Any(b => b.GetProperty("benefit").GetString() == "ops" && b.GetProperty("used").GetInt64() == 1)
                && usage.GetProperty("benefits").EnumerateArray().Single(b => b.GetProperty("benefit").GetString() == "memberDay").GetProperty("used").GetInt64() == 3;
        }, "the benefits are counted");
        var benefits = usage.GetProperty("benefits").EnumerateArray().ToDictionary(b => b.GetProperty("benefit").GetString()!);
        Assert.Equal(2, benefits["ops"].GetProperty("granted").GetInt64());
        Assert.Equal(0.5, benefits["ops"].GetProperty("rate").GetDouble());
        Assert.Equal(150, benefits["memberDay"].GetProperty("granted").GetInt64());
        Assert.Equal(0.02, benefits["memberDay"].GetProperty("rate").GetDouble());
        Assert.Equal(0, benefits["reactivationOffer"].GetProperty("granted").GetInt64());
    }
}
