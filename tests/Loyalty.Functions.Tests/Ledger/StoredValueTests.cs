using System.Net;
using Loyalty.Functions.Tests.Support;
using Xunit;

namespace Loyalty.Functions.Tests.Ledger;

public sealed class StoredValueTests(LoyaltyApp app) : IClassFixture<LoyaltyApp>
{
    [Fact]
    public async Task TopUp_BandReached_AddsPrincipalAndSeparateBonus_UsableAtOnce()
    {
        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        var (memberId, _) = await app.EnrolAsync();

        var receipt = await terminal.PostOkAsync($"/api/members/{memberId}/top-ups", new { amount = 50_000, channel = "storeTerminal", storeId = "sh-001" });
        var sale = await terminal.PostOkAsync("/api/sales", new
        {
            saleId = "sv-" + Guid.NewGuid().ToString("N"), storeId = "sh-001", memberId,
            lines = new[] { new { sku = "A", category = "food", quantity = 1, unitPrice = 8_000 } },
            payWithStoredValue = 8_000,
        });

        Assert.Equal(50_000, receipt.GetProperty("amount").GetInt64());
        Assert.Equal(5_000, receipt.GetProperty("bonus").GetInt64());
        Assert.Equal(55_000, receipt.GetProperty("balances").GetProperty("storedValue").GetProperty("total").GetInt64());
        Assert.Equal(0, sale.GetProperty("amountDue").GetInt64());
        Assert.Equal(5_000, sale.GetProperty("storedValuePaid").GetProperty("bonus").GetInt64()); // bonus spent first by default
        Assert.Equal((80L, 47_000L, 0L), await terminal.BalancesAsync(memberId));
    }

    [Theory]
    [InlineData("bankCard")]
    [InlineData("partnerCard")]
    [InlineData("online")]
    public async Task TopUp_Channels_AreRecordedAsTheReason(string channel)
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (memberId, _) = await app.EnrolAsync();

        await admin.PostOkAsync($"/api/members/{memberId}/top-ups", new { amount = 1_000, channel, storeId = "sh-001" });
        var entry = (await admin.GetJsonAsync($"/api/members/{memberId}/ledger")).GetProperty("items")[0];

        Assert.StartsWith("top_up.", entry.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal(1_000, entry.GetProperty("principal").GetInt64());
    }

    [Fact]
    public async Task TopUp_HqBatchByTerminal_Forbidden_ByOps_Allowed()
    {
        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        using var ops = app.Client(await app.KeyForAsync("ops", "hq"));
        var (memberId, _) = await app.EnrolAsync();

        await (await terminal.PostAsync($"/api/members/{memberId}/top-ups", new { amount = 1_000, channel = "hqBatch", storeId = "sh-001" }, "k1"))
            .AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden_role");
        await ops.PostOkAsync($"/api/members/{memberId}/top-ups", new { amount = 1_000, channel = "hqBatch", storeId = "sh-001" });
    }

    [Fact]
    public async Task TopUp_OnlyDesignatedStores_WhenConfigured()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (memberId, _) = await app.EnrolAsync();
        var before = await admin.GetJsonAsync("/api/config/top-up-bonuses");
        var value = System.Text.Json.Nodes.JsonNode.Parse(before.GetProperty("value").GetRawText())!;
        value["allowedStores"] = new System.Text.Json.Nodes.JsonArray("hz-001");
        var put = await admin.SendAsync(Api.Json(HttpMethod.Put, "/api/config/top-up-bonuses", $$"""{"value":{{value.ToJsonString()}}}"""));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        try
        {
            var refused = await admin.PostAsync($"/api/members/{memberId}/top-ups", new { amount = 1_000, storeId = "sh-001" }, Guid.NewGuid().ToString());
            await refused.AssertProblemAsync(HttpStatusCode.Forbidden, "top_up_not_allowed");
            await admin.PostOkAsync($"/api/members/{memberId}/top-ups", new { amount = 1_000, storeId = "hz-001" });
            Assert.Equal((0L, 1_000L, 0L), await admin.BalancesAsync(memberId));
        }
        finally
        {
            var current = await admin.GetJsonAsync("/api/config/top-up-bonuses");
            value["allowedStores"] = new System.Text.Json.Nodes.JsonArray();
            var restore = Api.Json(HttpMethod.Put, "/api/config/top-up-bonuses", $$"""{"value":{{value.ToJsonString()}}}""");
            restore.Headers.TryAddWithoutValidation("If-Match", $"\"{current.GetProperty("version").GetInt64()}\"");
            Assert.Equal(HttpStatusCode.OK, (await admin.SendAsync(restore)).StatusCode);
        }
    }

    public static TheoryData<string, string, HttpStatusCode> BadTopUps => new()
    {
        { """{"channel":"storeTerminal","storeId":"sh-001"}""", "amount_invalid", HttpStatusCode.BadRequest },
        { """{"amount":50,"storeId":"sh-001"}""", "amount_invalid", HttpStatusCode.BadRequest },
        { """{"amount":1000,"storeId":"nowhere"}""", "store_unknown", HttpStatusCode.BadRequest },
        { """{"amount":1000}""", "store_required", HttpStatusCode.BadRequest },
        { """{"amount":1000,"storeId":"sh-001","channel":"cash"}""", "channel_invalid", HttpStatusCode.BadRequest },
        { """{"amount":1000,"storeId":"sh-001","channel":3}""", "channel_invalid", HttpStatusCode.BadRequest },
        { """{"amount":1000,"storeId":"sh-001","bonus":99999}""", "read_only_field", HttpStatusCode.BadRequest },
        { """{"amount":1000,"storeId":"sh-001","balance":99999}""", "read_only_field", HttpStatusCode.BadRequest },
        { """{"amount":1000,"storeId":"sh-001","cardNumber":"4539578763621486"}""", "card_not_on_account", HttpStatusCode.BadRequest },
        { """{"amount":1000,"storeId":"gz-001"}""", "forbidden_scope", HttpStatusCode.Forbidden },
    };

    [Theory]
    [MemberData(nameof(BadTopUps))]
    public async Task TopUp_BadInput_ProblemAndNothingWritten(string body, string code, HttpStatusCode status)
    {
        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        var (memberId, _) = await app.EnrolAsync();

        var response = await terminal.SendAsync(Api.Json(HttpMethod.Post, $"/api/members/{memberId}/top-ups", body, Guid.NewGuid().ToString()));

        await response.AssertProblemAsync(status, code);
        Assert.Equal((0L, 0L, 0L), await terminal.BalancesAsync(memberId));
        Assert.Equal(0, await terminal.LedgerCountAsync(memberId));
    }

    [Fact]
    public async Task TopUp_UnknownMember_404()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        await (await admin.PostAsync("/api/members/M0000000000000/top-ups", new { amount = 1_000, storeId = "sh-001" }, "k"))
            .AssertProblemAsync(HttpStatusCode.NotFound, "member_not_found");
        await (await admin.PostAsync("/api/members/MZZZZZZZZZZZZ/top-ups", new { amount = 1_000, storeId = "sh-001" }, "k"))
            .AssertProblemAsync(HttpStatusCode.NotFound, "member_not_found");
    }

    [Fact]
    public async Task RefundingAllPrincipal_InParts_TakesTheTopUpBonusBackWithIt_OnTheReceiptAndInTheLedger()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (memberId, _) = await app.EnrolAsync();
        await admin.PostOkAsync($"/api/members/{memberId}/top-ups", new { amount = 50_000, storeId = "sh-001" }, Guid.NewGuid().ToString());
        await admin.PostOkAsync($"/api/members/{memberId}/top-ups", new { amount = 100_000, storeId = "sh-001" }, Guid.NewGuid().ToString());
        Assert.Equal((0L, 150_000L, 17_000L), await admin.BalancesAsync(memberId));

        var taken = new List<long>();
        for (var i = 0; i < 4; i++)
        {
            var receipt = await admin.PostOkAsync($"/api/members/{memberId}/stored-value-refunds", new { amount = 37_500, storeId = "sh-001", reason = "退卡" }, Guid.NewGuid().ToString());
            Assert.Equal(37_500, receipt.GetProperty("amount").GetInt64());
            taken.Add(receipt.GetProperty("bonusTakenBack").GetInt64());
        }

        // Oldest top-up first, each part taking its share of its top-up's bonus; nothing is left to spend.
        Assert.Equal([3_750L, 4_250L, 4_500L, 4_500L], taken);
        Assert.Equal((0L, 0L, 0L), await admin.BalancesAsync(memberId));
        var ledger = (await admin.GetJsonAsync($"/api/members/{memberId}/ledger?pageSize=50")).GetProperty("items").EnumerateArray()
            .Where(e => e.GetProperty("reason").GetString() == "stored_value.refund")
            .Select(e => (e.GetProperty("principal").GetInt64(), e.GetProperty("bonus").GetInt64()))
            .Order()
            .ToList();
        Assert.Equal([(-37_500L, -4_500L), (-37_500L, -4_500L), (-37_500L, -4_250L), (-37_500L, -3_750L)], ledger);
        var sale = await admin.PostAsync("/api/sales", new
        {
            saleId = "sv-" + Guid.NewGuid().ToString("N"), storeId = "sh-001", memberId,
            lines = new[] { new { sku = "A", category = "food", quantity = 1, unitPrice = 100 } },
            payWithStoredValue = 100,
        }, Guid.NewGuid().ToString());
        await sale.AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "insufficient_stored_value");
        Assert.True((await admin.PostOkAsync("/api/ops/reconcile", new { })).GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task RefundingPrincipal_AfterTheBonusWasSpent_CannotGoBelowZero_AndTakesOnlyWhatIsLeft()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (memberId, _) = await app.EnrolAsync();
        await admin.PostOkAsync($"/api/members/{memberId}/top-ups", new { amount = 50_000, storeId = "sh-001" }, Guid.NewGuid().ToString());

        // The sale spends the bonus first (the default), then 1,000 of principal.
        await admin.PostOkAsync("/api/sales", new
        {
            saleId = "sv-" + Guid.NewGuid().ToString("N"), storeId = "sh-001", memberId,
            lines = new[] { new { sku = "A", category = "food", quantity = 1, unitPrice = 6_000 } },
            payWithStoredValue = 6_000,
        }, Guid.NewGuid().ToString());
        var receipt = await admin.PostOkAsync($"/api/members/{memberId}/stored-value-refunds", new { amount = 49_000, storeId = "sh-001", reason = "退卡" }, Guid.NewGuid().ToString());

        Assert.Equal(0, receipt.GetProperty("bonusTakenBack").GetInt64());
        var (_, principal, bonus) = await admin.BalancesAsync(memberId);
        Assert.Equal((0L, 0L), (principal, bonus));
    }
}
