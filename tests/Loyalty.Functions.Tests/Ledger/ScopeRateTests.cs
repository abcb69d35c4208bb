using System.Net;
using System.Net.Http.Json;
using Loyalty.Functions.Tests.Support;
using Xunit;

namespace Loyalty.Functions.Tests.Ledger;

public sealed class ScopeRateTests(LoyaltyApp app) : IClassFixture<LoyaltyApp>
{
    private static object Basket(string storeId) => new { storeId, lines = new[] { new { sku = "A", category = "food", quantity = 1, unitPrice = 10_000 } } };

    [Fact]
    public async Task RegionsAndStores_SetTheirOwnRates_OnlyWhereTheOverridePolicyAllows()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        using var east = app.Client(await app.KeyForAsync("regionManager", "east"));
        using var store = app.Client(await app.KeyForAsync("storeManager", "sh-001"));
        using var terminal = app.Client(await app.KeyForAsync("terminal", "hz-001"));

        await (await east.PutAsJsonAsync("/api/config/earning-rules/scopes/hz-001", new { pointsPerYuan = 3 })).AssertProblemAsync(HttpStatusCode.Forbidden, "override_not_allowed");

        (await admin.PutAsJsonAsync("/api/config/override-policy", new { value = new { regionsSetEarningRate = true } })).EnsureSuccessStatusCode();
        var set = await east.PutAsJsonAsync("/api/config/earning-rules/scopes/hz-001", new { pointsPerYuan = 3 });
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        Assert.Equal(300, (await terminal.PostOkAsync("/api/sales/quote", Basket("hz-001"))).GetProperty("receipt").GetProperty("pointsEarned").GetInt64());
        var rules = await admin.GetJsonAsync("/api/config/earning-rules");
        Assert.Contains(rules.GetProperty("value").GetProperty("scopeRates").EnumerateArray(), r => r.GetProperty("scopeId").GetString() == "hz-001");

        await (await east.PutAsJsonAsync("/api/config/earning-rules/scopes/gz-001", new { pointsPerYuan = 3 })).AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden_scope");
        await (await store.PutAsJsonAsync("/api/config/earning-rules/scopes/sh-001", new { pointsPerYuan = 3 })).AssertProblemAsync(HttpStatusCode.Forbidden, "override_not_allowed");
        await (await terminal.PutAsJsonAsync("/api/config/earning-rules/scopes/hz-001", new { pointsPerYuan = 3 })).AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden_role");
        await (await east.PutAsJsonAsync("/api/config/earning-rules/scopes/hz-001", new { pointsPerYuan = -1 })).AssertProblemAsync(HttpStatusCode.BadRequest, "config_invalid");
        await (await admin.PutAsJsonAsync("/api/config/earning-rules/scopes/nowhere", new { pointsPerYuan = 1 })).AssertProblemAsync(HttpStatusCode.NotFound, "scope_unknown");

        // Removing the store's own rate falls back to the chain's.
        Assert.Equal(HttpStatusCode.OK, (await east.PutAsJsonAsync("/api/config/earning-rules/scopes/hz-001", new { pointsPerYuan = (int?)null })).StatusCode);
        Assert.Equal(100, (await terminal.PostOkAsync("/api/sales/quote", Basket("hz-001"))).GetProperty("receipt").GetProperty("pointsEarned").GetInt64());
    }
}
