using Loyalty.Storage.Tables;
using Loyalty.Testing;
using System.Net;
using System.Net.Http.Json;
using Loyalty.Domain.Programme;
using Loyalty.Functions.Tests.Support;
using Xunit;

namespace Loyalty.Functions.Tests.Ledger;

/// <summary>The app with a small tier ladder: silver from 50 yuan of qualifying spend, with an upgrade gift pack.</summary>
public class TierApp : LoyaltyApp
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        using var admin = Client(AdminKey);
        await admin.PutConfigAsync("coupon-templates", new[] { new { templateId = "silver-welcome", name = "白银升级券", kind = "amountOff", amountOff = 800, validDays = 30 } });
        await admin.PutConfigAsync("gift-packs", new { packs = new[] { new { packId = "silver-gift", name = "白银升级礼包", points = 300, coupons = new[] { new { templateId = "silver-welcome" } } } } });
        await admin.PutConfigAsync("tiers", new object[]
        {
            new { code = "standard", name = "普通会员", pricePercent = 10_000, pointsMultiplierPercent = 100 },
            new { code = "silver", name = "白银会员", pricePercent = 9_800, pointsMultiplierPercent = 120, threshold = 5_000, upgradeGiftPack = "silver-gift", benefits = new[] { "免运费" } },
            new { code = "gold", name = "黄金会员", pricePercent = 9_500, pointsMultiplierPercent = 150, threshold = 10_000_000 },
        });
    }

}

public sealed class TierUpgradeTests(TierApp app) : IClassFixture<TierApp>
{
    private static object Sale(string memberId, string? saleId = null) => new
    {
        saleId = saleId ?? "S-" + Guid.NewGuid().ToString("N")[..20],
        storeId = "sh-001",
        memberId,
        lines = new[] { new { sku = "MILK", category = "dairy", quantity = 2, unitPrice = 2_550 }, new { sku = "BREAD", category = "bakery", quantity = 1, unitPrice = 1_200 } },
    };

    private async Task<long> ProgressAsync(string memberId)
    {
        var account = await app.Store.Members.FindEntityAsync(memberId, Storage.Members.MemberStore.AccountRow(memberId));
        return TierProgress.Parse(account!.GetString("TierProgress")).Total(DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai")).DateTime), TierPeriod.Rolling12Months);
    }

    [Fact]
    public async Task ThePurchaseThatCrossesTheThreshold_UpgradesInItsOwnTransaction_WithTheGiftPackOnce()
    {
        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        var (memberId, _) = await app.EnrolAsync();
        var sale = Sale(memberId);

        var receipt = await terminal.PostOkAsync("/api/sales", sale, "k1");
        var replay = await terminal.PostAsync("/api/sales", sale, "k2");

        Assert.Equal("standard", receipt.GetProperty("tier").GetString()); // priced at the tier it started in
        Assert.Equal("silver", receipt.GetProperty("upgradedTo").GetString());
        var gift = receipt.GetProperty("upgradeGift");
        Assert.Equal("silver-gift", gift.GetProperty("giftPackId").GetString());
        Assert.Equal(300, gift.GetProperty("points").GetInt64());
        Assert.Equal(63 + 300, receipt.GetProperty("balances").GetProperty("points").GetInt64());
        Assert.Equal(HttpStatusCode.Created, replay.StatusCode);

        var member = await terminal.GetJsonAsync($"/api/members/{memberId}");
        Assert.Equal("silver", member.GetProperty("tier").GetString());
        var coupons = (await terminal.GetJsonAsync($"/api/members/{memberId}/coupons")).GetProperty("items");
        var coupon = Assert.Single(coupons.EnumerateArray());
        Assert.Equal("upgrade", coupon.GetProperty("source").GetString());
        Assert.Equal(gift.GetProperty("coupons")[0].GetString(), coupon.GetProperty("code").GetString());
        var ledger = (await terminal.GetJsonAsync($"/api/members/{memberId}/ledger")).GetProperty("items");
        Assert.Equal(new[] { "gift", "sale" }, ledger.EnumerateArray().Select(e => e.GetProperty("type").GetString()!).ToArray());
        Assert.Equal(6_300, await ProgressAsync(memberId));

        // The next purchase is priced at silver (98%) and upgrades nothing.
        var next = await terminal.PostOkAsync("/api/sales", Sale(memberId));
        Assert.Equal("silver", next.GetProperty("tier").GetString());
        Assert.Equal(6_300 - 4_998 - 1_176, next.GetProperty("memberDiscount").GetInt64());
        Assert.False(next.TryGetProperty("upgradedTo", out _));
    }

    [Fact]
    public async Task ConcurrentCrossingPurchases_UpgradeOnce_AndGrantOnePack()
    {
        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        var (memberId, _) = await app.EnrolAsync();

        var receipts = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => terminal.PostOkAsync("/api/sales", Sale(memberId))));

        Assert.Single(receipts, r => r.TryGetProperty("upgradedTo", out _));
        Assert.Single((await terminal.GetJsonAsync($"/api/members/{memberId}/coupons")).GetProperty("items").EnumerateArray());
        Assert.Equal(7, await terminal.LedgerCountAsync(memberId)); // 6 sales + 1 gift
        using var admin = app.Client(LoyaltyApp.AdminKey);
        Assert.True((await admin.PostOkAsync("/api/ops/reconcile", new { })).GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task Refund_TakesBackTheProgress_ButNotTheTier()
    {
        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        var (memberId, _) = await app.EnrolAsync();
        var receipt = await terminal.PostOkAsync("/api/sales", Sale(memberId));

        await terminal.PostOkAsync($"/api/sales/{receipt.GetProperty("saleId").GetString()}/refunds", new { refundId = "r1", lines = new[] { new { line = 0, quantity = 1 } } });
        Assert.Equal(6_300 - 2_550, await ProgressAsync(memberId));
        await terminal.PostOkAsync($"/api/sales/{receipt.GetProperty("saleId").GetString()}/refunds", new { refundId = "r2" });

        Assert.Equal(0, await ProgressAsync(memberId));
        Assert.Equal("silver", (await terminal.GetJsonAsync($"/api/members/{memberId}")).GetProperty("tier").GetString());
    }

    [Fact]
    public async Task TierConfig_RefusesOverlapsAndUnknownPacks_AndPacksInUseCannotBeRemoved()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var overlapping = await admin.PutAsJsonAsync("/api/config/tiers", new
        {
            value = new object[]
            {
                new { code = "standard", name = "a", pricePercent = 10_000, pointsMultiplierPercent = 100 },
                new { code = "silver", name = "b", pricePercent = 9_800, pointsMultiplierPercent = 120, threshold = 5_000 },
                new { code = "gold", name = "c", pricePercent = 9_500, pointsMultiplierPercent = 150, threshold = 5_000 },
            },
        });
        var unknownPack = await admin.PutAsJsonAsync("/api/config/tiers", new
        {
            value = new object[]
            {
                new { code = "standard", name = "a", pricePercent = 10_000, pointsMultiplierPercent = 100 },
                new { code = "silver", name = "b", pricePercent = 9_800, pointsMultiplierPercent = 120, threshold = 5_000, upgradeGiftPack = "nope" },
                new { code = "gold", name = "c", pricePercent = 9_500, pointsMultiplierPercent = 150, threshold = 50_000, upgradeGiftPack = "nope" },
            },
        });
        var removesPack = await admin.PutAsJsonAsync("/api/config/gift-packs", new { value = new { packs = Array.Empty<object>() } });
        var badPolicy = await admin.PutAsJsonAsync("/api/config/tier-policy", new { value = new { basis = "mood" } });
        var twoTiers = await admin.PutAsJsonAsync("/api/config/tiers", new
        {
            value = new object[]
            {
                new { code = "standard", name = "a", pricePercent = 10_000, pointsMultiplierPercent = 100 },
                new { code = "silver", name = "b", pricePercent = 9_800, pointsMultiplierPercent = 120, threshold = 5_000 },
            },
        });

        Assert.Equal("threshold", (await overlapping.AssertProblemAsync(HttpStatusCode.BadRequest, "config_invalid")).GetProperty("field").GetString());
        Assert.Equal("upgradeGiftPack", (await unknownPack.AssertProblemAsync(HttpStatusCode.BadRequest, "config_invalid")).GetProperty("field").GetString());
        await removesPack.AssertProblemAsync(HttpStatusCode.BadRequest, "config_invalid");
        await badPolicy.AssertProblemAsync(HttpStatusCode.BadRequest, "config_invalid");
        Assert.Equal("tiers", (await twoTiers.AssertProblemAsync(HttpStatusCode.BadRequest, "config_invalid")).GetProperty("field").GetString());
        var policy = await admin.GetJsonAsync("/api/config/tier-policy");
        Assert.Equal("qualifyingSpend", policy.GetProperty("value").GetProperty("basis").GetString());
    }
}
