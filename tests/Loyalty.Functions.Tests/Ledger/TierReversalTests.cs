using System.Net;
using Loyalty.Functions.Tests.Support;
using Loyalty.Storage.Ledger;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Loyalty.Functions.Tests.Ledger;

/// <summary>The tier ladder of <see cref="TierApp"/> with the tier policy's <c>reverseOnRefund</c> switched on.</summary>
public sealed class TierReversalApp : TierApp
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        using var admin = Client(AdminKey);
        await admin.PutConfigAsync("tier-policy", new { basis = "qualifyingSpend", period = "rolling12Months", reverseOnRefund = true });
    }
}

public sealed class TierReversalTests(TierReversalApp app) : IClassFixture<TierReversalApp>
{
    private static object Sale(string memberId) => new
    {
        saleId = "S-" + Guid.NewGuid().ToString("N")[..20],
        storeId = "sh-001",
        memberId,
        lines = new[] { new { sku = "MILK", category = "dairy", quantity = 2, unitPrice = 2_550 }, new { sku = "BREAD", category = "bakery", quantity = 1, unitPrice = 1_200 } },
    };

    [Fact]
    public async Task RefundBelowTheThreshold_OfThisPeriodsUpgrade_TakesTheTierBack_TheGiftStays()
    {
        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        var (memberId, _) = await app.EnrolAsync();
        var receipt = await terminal.PostOkAsync("/api/sales", Sale(memberId));
        Assert.Equal("silver", receipt.GetProperty("upgradedTo").GetString());

        // 6,300 - 2,550 = 3,750 of progress is left, below silver's 5,000.
        await terminal.PostOkAsync($"/api/sales/{receipt.GetProperty("saleId").GetString()}/refunds", new { refundId = "r1", lines = new[] { new { line = 0, quantity = 1 } } });

        var member = await terminal.GetJsonAsync($"/api/members/{memberId}");
        Assert.Equal("standard", member.GetProperty("tier").GetString());
        var coupons = await terminal.GetJsonAsync($"/api/members/{memberId}/coupons");
        Assert.Contains(coupons.GetProperty("items").EnumerateArray(), c => c.GetProperty("templateId").GetString() == "silver-welcome");
        Assert.True((await terminal.BalancesAsync(memberId)).Points >= 300, "the upgrade pack's 300 points stay");
    }

    [Fact]
    public async Task RefundThatLeavesEnoughProgress_KeepsTheTier()
    {
        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        var (memberId, _) = await app.EnrolAsync();
        var receipt = await terminal.PostOkAsync("/api/sales", Sale(memberId));

        // 6,300 - 1,200 = 5,100: still silver.
        await terminal.PostOkAsync($"/api/sales/{receipt.GetProperty("saleId").GetString()}/refunds", new { refundId = "r1", lines = new[] { new { line = 1, quantity = 1 } } });

        Assert.Equal("silver", (await terminal.GetJsonAsync($"/api/members/{memberId}")).GetProperty("tier").GetString());
    }

    [Fact]
    public async Task AManuallyGrantedFloor_IsNeverUndoneByARefund()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        var (memberId, _) = await app.EnrolAsync();
        var receipt = await terminal.PostOkAsync("/api/sales", Sale(memberId));
        var floor = await admin.SendAsync(Api.Json(HttpMethod.Put, $"/api/members/{memberId}/tier", """{"tier":"silver","reason":"VIP 客户","floor":true}""", Guid.NewGuid().ToString()));
        Assert.True(floor.IsSuccessStatusCode, await floor.Content.ReadAsStringAsync());

        await terminal.PostOkAsync($"/api/sales/{receipt.GetProperty("saleId").GetString()}/refunds", new { refundId = "r-all" });

        Assert.Equal("silver", (await terminal.GetJsonAsync($"/api/members/{memberId}")).GetProperty("tier").GetString());
    }
}

/// <summary><see cref="TierReversalApp"/> with <c>takeBackUnusedGift</c>: a refund that takes the tier back takes back the unused upgrade pack too.</summary>
public sealed class TierTakeBackApp : TierApp
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        using var admin = Client(AdminKey);
        await admin.PutConfigAsync("tier-policy", new { basis = "qualifyingSpend", period = "rolling12Months", reverseOnRefund = true, takeBackUnusedGift = true });
    }
}

public sealed class TierTakeBackTests(TierTakeBackApp app) : IClassFixture<TierTakeBackApp>
{
    private static object Sale(string memberId) => new
    {
        saleId = "S-" + Guid.NewGuid().ToString("N")[..20],
        storeId = "sh-001",
        memberId,
        lines = new[] { new { sku = "MILK", category = "dairy", quantity = 2, unitPrice = 2_550 }, new { sku = "BREAD", category = "bakery", quantity = 1, unitPrice = 1_200 } },
    };

    private async Task AssertLedgerMatchesAsync(string memberId)
    {
        var report = await app.Services.GetRequiredService<Reconciler>().RunAsync(new HashSet<string> { memberId });
        Assert.Equal(1, report.MembersChecked);
        Assert.Empty(report.Discrepancies);
    }

    [Fact]
    public async Task RefundThatTakesTheTierBack_RevokesTheUnusedCoupon_AndTakesThePacksPointsBack_InItsTransaction()
    {
        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        var (memberId, _) = await app.EnrolAsync();
        var sale = await terminal.PostOkAsync("/api/sales", Sale(memberId));
        var code = sale.GetProperty("upgradeGift").GetProperty("coupons")[0].GetString()!;
        Assert.Equal(63 + 300, sale.GetProperty("balances").GetProperty("points").GetInt64());

        var refund = await terminal.PostOkAsync($"/api/sales/{sale.GetProperty("saleId").GetString()}/refunds", new { refundId = "r1", lines = new[] { new { line = 0, quantity = 1 } } });

        Assert.Equal("standard", refund.GetProperty("downgradedTo").GetString());
        var takenBack = refund.GetProperty("upgradeGiftTakenBack");
        Assert.Equal(300, takenBack.GetProperty("points").GetInt64());
        Assert.Equal(code, Assert.Single(takenBack.GetProperty("coupons").EnumerateArray()).GetString());
        Assert.Equal(63 + 300 - refund.GetProperty("pointsClawedBack").GetInt64() - 300, refund.GetProperty("balances").GetProperty("points").GetInt64());
        var coupon = Assert.Single((await terminal.GetJsonAsync($"/api/members/{memberId}/coupons")).GetProperty("items").EnumerateArray());
        Assert.Equal("revoked", coupon.GetProperty("state").GetString());
        Assert.Equal("standard", (await terminal.GetJsonAsync($"/api/members/{memberId}")).GetProperty("tier").GetString());
        var ledger = (await terminal.GetJsonAsync($"/api/members/{memberId}/ledger")).GetProperty("items").EnumerateArray().ToList();
        Assert.Contains(ledger, e => e.GetProperty("type").GetString() == "gift" && e.GetProperty("points").GetInt64() == -300);
        await AssertLedgerMatchesAsync(memberId);

        // Replayed under another key, the refund answers its receipt and takes nothing more.
        var again = await terminal.PostOkAsync($"/api/sales/{sale.GetProperty("saleId").GetString()}/refunds", new { refundId = "r1", lines = new[] { new { line = 0, quantity = 1 } } });
        Assert.Equal(refund.GetProperty("balances").GetProperty("points").GetInt64(), again.GetProperty("balances").GetProperty("points").GetInt64());
        Assert.Equal(refund.GetProperty("balances").GetProperty("points").GetInt64(), (await terminal.BalancesAsync(memberId)).Points);
    }

    [Fact]
    public async Task AUsedCouponStaysUsed_AndPointsAreTakenBackOnlyAsFarAsTheBalanceGoes()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        var (memberId, _) = await app.EnrolAsync();
        var sale = await terminal.PostOkAsync("/api/sales", Sale(memberId));
        var code = sale.GetProperty("upgradeGift").GetProperty("coupons")[0].GetString()!;

        // The member uses the pack's coupon on a small purchase and has spent most of the pack's points (120 are left).
        await terminal.PostOkAsync("/api/sales", new
        {
            saleId = "S-" + Guid.NewGuid().ToString("N")[..20], storeId = "sh-001", memberId,
            lines = new[] { new { sku = "JAM", category = "pantry", quantity = 1, unitPrice = 900 } }, couponCodes = new[] { code },
        });
        var points = (await terminal.BalancesAsync(memberId)).Points;
        await admin.PostOkAsync($"/api/members/{memberId}/adjustments", new { points = 120 - points, reason = "points spent elsewhere" });

        var refund = await terminal.PostOkAsync($"/api/sales/{sale.GetProperty("saleId").GetString()}/refunds", new { refundId = "r1", lines = new[] { new { line = 0, quantity = 1 } } });

        Assert.Equal("standard", refund.GetProperty("downgradedTo").GetString());
        var takenBack = refund.GetProperty("upgradeGiftTakenBack");
        Assert.Empty(takenBack.GetProperty("coupons").EnumerateArray());
        Assert.Equal(120 - refund.GetProperty("pointsClawedBack").GetInt64(), takenBack.GetProperty("points").GetInt64());
        Assert.Equal(0, refund.GetProperty("balances").GetProperty("points").GetInt64());
        var coupon = Assert.Single((await terminal.GetJsonAsync($"/api/members/{memberId}/coupons")).GetProperty("items").EnumerateArray());
        Assert.Equal("redeemed", coupon.GetProperty("state").GetString());
        await AssertLedgerMatchesAsync(memberId);
    }

    [Fact]
    public async Task TakeBack_WithoutReverseOnRefund_IsRefused()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var response = await admin.SendAsync(Api.Json(HttpMethod.Put, "/api/config/tier-policy", """{"value":{"basis":"qualifyingSpend","takeBackUnusedGift":true}}""", Guid.NewGuid().ToString()));
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "config_invalid");
        var policy = await admin.GetJsonAsync("/api/config/tier-policy");
        Assert.True(policy.GetProperty("value").GetProperty("reverseOnRefund").GetBoolean(), "the policy in force is unchanged");
    }
}
