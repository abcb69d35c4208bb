using Loyalty.Functions.Tests.Support;
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
