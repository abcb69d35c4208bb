using System.Net;
using System.Net.Http.Json;
using Loyalty.Functions.Tests.Support;
using Xunit;

namespace Loyalty.Functions.Tests.Ledger;

public sealed class EarningRulesApiTests(LoyaltyApp app) : IClassFixture<LoyaltyApp>, IAsyncLifetime
{
    public async Task InitializeAsync()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var response = await admin.PutAsJsonAsync("/api/config/earning-rules", new
        {
            value = new
            {
                pointsPerYuan = 1,
                excludedCategories = new[] { "tobacco" },
                offsetPointsPerYuan = 100,
                maxOffsetPercent = 50,
                categoryMultipliers = new[] { new { key = "dairy", multiplierPercent = 300 } },
                scopeRates = new[] { new { scopeId = "east", pointsPerYuan = 2 } },
                capPerTransaction = 1_000,
                checkInPoints = 5,
            },
        });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private static object Basket(string storeId, string? memberId = null, string[]? coupons = null) => new
    {
        storeId,
        memberId,
        lines = new[] { new { sku = "MILK", category = "dairy", quantity = 2, unitPrice = 2_550 }, new { sku = "CIGS", category = "tobacco", quantity = 1, unitPrice = 3_000 } },
        couponCodes = coupons,
    };

    [Fact]
    public async Task Quote_PricesWithTheStoresRate_AndWritesNothing()
    {
        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        using var south = app.Client(await app.KeyForAsync("terminal", "gz-001"));
        var (memberId, _) = await app.EnrolAsync();

        var east = await terminal.PostOkAsync("/api/sales/quote", Basket("sh-001", memberId));
        var chain = await south.PostOkAsync("/api/sales/quote", Basket("gz-001", memberId));
        var anonymous = await terminal.PostOkAsync("/api/sales/quote", Basket("sh-001"));

        Assert.True(east.GetProperty("dryRun").GetBoolean());
        Assert.Equal(306, east.GetProperty("receipt").GetProperty("pointsEarned").GetInt64()); // 51 yuan of dairy x3 x2 (east rate); tobacco earns nothing
        Assert.Equal(153, chain.GetProperty("receipt").GetProperty("pointsEarned").GetInt64());
        Assert.Equal(306, east.GetProperty("receipt").GetProperty("balances").GetProperty("points").GetInt64());
        Assert.Equal(306, anonymous.GetProperty("receipt").GetProperty("pointsEarned").GetInt64());
        Assert.Equal(0, await terminal.LedgerCountAsync(memberId));
        Assert.Equal(0, (await terminal.BalancesAsync(memberId)).Points);
    }

    [Fact]
    public async Task Quote_RefusesWhatTheSaleWouldRefuse()
    {
        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        var (memberId, _) = await app.EnrolAsync();

        await (await terminal.PostAsync("/api/sales/quote", new { storeId = "sh-001", lines = Array.Empty<object>() }, null)).AssertProblemAsync(HttpStatusCode.BadRequest, "lines_invalid");
        await (await terminal.PostAsync("/api/sales/quote", Basket("gz-001", memberId), null)).AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden_scope");
        await (await terminal.PostAsync("/api/sales/quote", Basket("sh-001", "M0000000000NO"), null)).AssertProblemAsync(HttpStatusCode.NotFound, "member_not_found");
        await (await terminal.PostAsync("/api/sales/quote", Basket("sh-001", memberId, ["ABCDEFGHJKMN"]), null)).AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "coupon_not_found");
        await (await terminal.PostAsync("/api/sales/quote", new { storeId = "sh-001", memberId, lines = new[] { new { sku = "A", category = "x", quantity = 1, unitPrice = 10_000 } }, pointsToRedeem = 100 }, null))
            .AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "insufficient_points");
    }

    [Fact]
    public async Task Sale_EarnsWithTheMultiplierAndTheCap_AndRecordsTheRuleVersion()
    {
        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        var (memberId, _) = await app.EnrolAsync();

        var big = new { saleId = "S-" + Guid.NewGuid().ToString("N")[..12], storeId = "sh-001", memberId, lines = new[] { new { sku = "MILK", category = "dairy", quantity = 100, unitPrice = 2_550 } } };
        var receipt = await terminal.PostOkAsync("/api/sales", big);

        Assert.Equal(1_000, receipt.GetProperty("pointsEarned").GetInt64()); // 15,300 before the cap
        var entry = (await terminal.GetJsonAsync($"/api/members/{memberId}/ledger")).GetProperty("items")[0];
        Assert.Equal(receipt.GetProperty("ruleVersion").GetString(), entry.GetProperty("ruleVersion").GetString());
    }

    [Fact]
    public async Task CheckIn_GrantsOncePerDay()
    {
        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        var (memberId, _) = await app.EnrolAsync();

        var first = await terminal.PostAsync($"/api/members/{memberId}/check-ins", new { }, null);
        var second = await terminal.PostAsync($"/api/members/{memberId}/check-ins", new { storeId = "sh-001" }, null);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(5, (await first.JsonAsync()).GetProperty("points").GetInt64());
        Assert.Equal("true", second.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(5, (await terminal.BalancesAsync(memberId)).Points);
        var entry = Assert.Single((await terminal.GetJsonAsync($"/api/members/{memberId}/ledger")).GetProperty("items").EnumerateArray());
        Assert.Equal("bonus.check_in", entry.GetProperty("reason").GetString());
        await (await terminal.PostAsync("/api/members/M0000000000NO/check-ins", new { }, null)).AssertProblemAsync(HttpStatusCode.NotFound, "member_not_found");
    }

    [Fact]
    public async Task EarningRules_RefuseNegativeRatesAndUnknownScopes()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var negative = await admin.PutAsJsonAsync("/api/config/earning-rules", new { value = new { pointsPerYuan = -1, excludedCategories = Array.Empty<string>(), offsetPointsPerYuan = 100, maxOffsetPercent = 50 } });
        var unknownScope = await admin.PutAsJsonAsync("/api/config/earning-rules", new { value = new { pointsPerYuan = 1, excludedCategories = Array.Empty<string>(), offsetPointsPerYuan = 100, maxOffsetPercent = 50, scopeRates = new[] { new { scopeId = "nowhere", pointsPerYuan = 3 } } } });
        var badDay = await admin.PutAsJsonAsync("/api/config/member-days", new { value = new[] { new { multiplierPercent = 200, fromHour = 20, toHour = 18 } } });

        Assert.Equal("pointsPerYuan", (await negative.AssertProblemAsync(HttpStatusCode.BadRequest, "config_invalid")).GetProperty("field").GetString());
        Assert.Equal("scopeRates", (await unknownScope.AssertProblemAsync(HttpStatusCode.BadRequest, "config_invalid")).GetProperty("field").GetString());
        await badDay.AssertProblemAsync(HttpStatusCode.BadRequest, "config_invalid");
    }
}
