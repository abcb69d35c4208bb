using Azure.Data.Tables;
using Loyalty.Storage.Tables;
using Loyalty.Testing;
using System.Net;
using System.Net.Http.Json;
using Loyalty.Functions.Tests.Support;
using Xunit;

namespace Loyalty.Functions.Tests.Ledger;

public sealed class PaidMembershipTests(LoyaltyApp app) : IClassFixture<LoyaltyApp>, IAsyncLifetime
{
    public async Task InitializeAsync()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var response = await admin.PutAsJsonAsync("/api/config/paid-membership", new { value = new { plans = new[] { new { planId = "gold-year", name = "黄金年卡", months = 12, price = 26_000, tier = "gold" } } } });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private static object Sale(string memberId) => new
    {
        saleId = "S-" + Guid.NewGuid().ToString("N")[..20],
        storeId = "sh-001",
        memberId,
        lines = new[] { new { sku = "A", category = "food", quantity = 1, unitPrice = 10_000 } },
    };

    [Fact]
    public async Task APaidMembership_GivesItsTierUntilItEnds_RenewalsExtendIt_AndStoredValuePays()
    {
        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        var (memberId, _) = await app.EnrolAsync();
        await terminal.PostOkAsync($"/api/members/{memberId}/top-ups", new { amount = 50_000, storeId = "sh-001" }); // bonus 5,000

        var bought = await terminal.PostOkAsync($"/api/members/{memberId}/memberships", new { planId = "gold-year", storeId = "sh-001", payWithStoredValue = true });
        var renewed = await terminal.PostOkAsync($"/api/members/{memberId}/memberships", new { planId = "gold-year", storeId = "sh-001" });

        Assert.Equal(26_000, bought.GetProperty("storedValuePaid").GetInt64());
        Assert.Equal(0, bought.GetProperty("balances").GetProperty("storedValue").GetProperty("bonus").GetInt64()); // bonus spent first
        Assert.Equal(50_000 - 21_000, bought.GetProperty("balances").GetProperty("storedValue").GetProperty("principal").GetInt64());
        var first = bought.GetProperty("paidUntil").GetDateTimeOffset();
        Assert.InRange(first, DateTimeOffset.UtcNow.AddMonths(12).AddMinutes(-5), DateTimeOffset.UtcNow.AddMonths(12).AddMinutes(5));
        Assert.Equal(first.AddMonths(12), renewed.GetProperty("paidUntil").GetDateTimeOffset());
        Assert.Equal(0, renewed.GetProperty("storedValuePaid").GetInt64());

        var member = await terminal.GetJsonAsync($"/api/members/{memberId}");
        Assert.Equal("standard", member.GetProperty("tier").GetString());
        Assert.Equal("gold", member.GetProperty("effectiveTier").GetString());
        Assert.True(member.GetProperty("paidMembership").GetProperty("valid").GetBoolean());
        var sale = await terminal.PostOkAsync("/api/sales", Sale(memberId));
        Assert.Equal(500, sale.GetProperty("memberDiscount").GetInt64());
        Assert.Equal("gold", sale.GetProperty("tier").GetString());

        // Once it ends, the member is priced at the earned tier again.
        var account = (await app.Store.Members.FindEntityAsync(memberId, Storage.Members.MemberStore.AccountRow(memberId)))!;
        account["PaidUntil"] = DateTimeOffset.UtcNow.AddMinutes(-1);
        await app.Store.Members.UpdateEntityAsync(account, account.ETag, TableUpdateMode.Replace);
        Assert.Equal(0, (await terminal.PostOkAsync("/api/sales", Sale(memberId))).GetProperty("memberDiscount").GetInt64());
        Assert.False((await terminal.GetJsonAsync($"/api/members/{memberId}")).GetProperty("paidMembership").GetProperty("valid").GetBoolean());

        var ledger = (await terminal.GetJsonAsync($"/api/members/{memberId}/ledger")).GetProperty("items").EnumerateArray().Select(e => e.GetProperty("reason").GetString()).ToList();
        Assert.Equal(2, ledger.Count(r => r == "membership.gold-year"));
        using var admin = app.Client(LoyaltyApp.AdminKey);
        Assert.True((await admin.PostOkAsync("/api/ops/reconcile", new { })).GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task Membership_RefusesUnknownPlans_ShortStoredValue_AndBadConfig()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (memberId, _) = await app.EnrolAsync();

        await (await admin.PostAsync($"/api/members/{memberId}/memberships", new { planId = "nope", storeId = "sh-001" }, "m1")).AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "plan_unknown");
        await (await admin.PostAsync($"/api/members/{memberId}/memberships", new { planId = "gold-year", storeId = "sh-001", payWithStoredValue = true }, "m2")).AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "insufficient_stored_value");
        await (await admin.PutAsJsonAsync("/api/config/paid-membership", new { value = new { plans = new[] { new { planId = "x", name = "x", months = 12, price = 1, tier = "diamond" } } } }))
            .AssertProblemAsync(HttpStatusCode.BadRequest, "config_invalid");
        Assert.Equal(0, await admin.LedgerCountAsync(memberId));
    }
}
