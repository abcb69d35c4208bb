using System.Net;
using System.Text.Json;
using Loyalty.Functions.Tests.Support;
using Xunit;

namespace Loyalty.Functions.Tests.Ledger;

public sealed class SaleTests(LoyaltyApp app) : IClassFixture<LoyaltyApp>
{
    private static object Sale(string saleId, string? memberId = null, string? cardNumber = null, long? sv = null, long? points = null, string storeId = "sh-001") => new
    {
        saleId,
        storeId,
        memberId,
        cardNumber,
        lines = new[] { new { sku = "MILK-1", category = "dairy", quantity = 2, unitPrice = 2_550 }, new { sku = "BREAD", category = "bakery", quantity = 1, unitPrice = 1_200 } },
        payWithStoredValue = sv,
        pointsToRedeem = points,
    };

    private static string NewSaleId() => "S-" + Guid.NewGuid().ToString("N")[..20];

    [Fact]
    public async Task Sale_GoldMemberByCard_ReceiptHasDiscountPaymentsPointsAndBalances()
    {
        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        var (memberId, card) = await app.EnrolAsync();
        await app.SetTierAsync(memberId, "gold");
        await terminal.PostOkAsync($"/api/members/{memberId}/top-ups", new { amount = 10_000, storeId = "sh-001" });

        var receipt = await terminal.PostOkAsync("/api/sales", Sale(NewSaleId(), cardNumber: card, sv: 3_000));

        Assert.Equal(6_300, receipt.GetProperty("gross").GetInt64());
        Assert.Equal(6_300 - (5_100 * 9_500 / 10_000) - (1_200 * 9_500 / 10_000), receipt.GetProperty("memberDiscount").GetInt64());
        Assert.Equal(3_000, receipt.GetProperty("storedValuePaid").GetProperty("principal").GetInt64());
        Assert.Equal(5_985 - 3_000, receipt.GetProperty("amountDue").GetInt64());
        Assert.Equal(89, receipt.GetProperty("pointsEarned").GetInt64()); // 5985 fen * 1.5
        Assert.Equal("gold", receipt.GetProperty("tier").GetString());
        Assert.Equal(memberId, receipt.GetProperty("memberId").GetString());
        Assert.StartsWith("r", receipt.GetProperty("ruleVersion").GetString(), StringComparison.Ordinal);
        Assert.Equal(7_000, receipt.GetProperty("balances").GetProperty("storedValue").GetProperty("principal").GetInt64());
    }

    [Fact]
    public async Task Sale_PointsOffset_AndMemberDayAndExclusions_FromConfiguration()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (memberId, _) = await app.EnrolAsync();
        await admin.PostOkAsync($"/api/members/{memberId}/adjustments", new { points = 1_000, reason = "welcome" });
        var today = TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai")).Day;
        await PutConfigAsync(admin, "member-days", $$"""[{"dayOfMonth":{{today}},"multiplierPercent":300}]""");
        await PutConfigAsync(admin, "earning-rules", """{"pointsPerYuan":1,"excludedCategories":["bakery"],"offsetPointsPerYuan":100,"maxOffsetPercent":50}""");
        try
        {
            var receipt = await admin.PostOkAsync("/api/sales", Sale(NewSaleId(), memberId, points: 1_000));

            Assert.Equal(1_000, receipt.GetProperty("pointsRedeemed").GetInt64());
            Assert.Equal(1_000, receipt.GetProperty("pointsOffset").GetInt64());
            Assert.Equal(6_300 - 1_000, receipt.GetProperty("amountDue").GetInt64());
            Assert.Equal(300, receipt.GetProperty("memberDayMultiplierPercent").GetInt32());
            Assert.False(receipt.GetProperty("lines")[1].GetProperty("earnsPoints").GetBoolean());
            // eligible 5100 fen less its share of the offset (1000 * 5100 / 6300 = 809) = 4291 fen -> 42 points x3 = 128
            Assert.Equal(128, receipt.GetProperty("pointsEarned").GetInt64());
            Assert.Equal(128, receipt.GetProperty("balances").GetProperty("points").GetInt64());
        }
        finally
        {
            await PutConfigAsync(admin, "member-days", "[]");
            await PutConfigAsync(admin, "earning-rules", """{"pointsPerYuan":1,"excludedCategories":[],"offsetPointsPerYuan":100,"maxOffsetPercent":50}""");
        }
    }

    [Fact]
    public async Task Sale_SameSaleTenTimesConcurrently_OneEffect()
    {
        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        var (memberId, _) = await app.EnrolAsync();
        await terminal.PostOkAsync($"/api/members/{memberId}/top-ups", new { amount = 20_000, storeId = "sh-001" });
        var saleId = NewSaleId();
        var body = JsonSerializer.Serialize(Sale(saleId, memberId, sv: 6_300));

        // Half share one key (a retrying till), half come with their own keys (a double-clicking cashier).
        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(i =>
            terminal.SendAsync(Api.Json(HttpMethod.Post, "/api/sales", body, i < 5 ? "same-key-" + saleId : Guid.NewGuid().ToString()))));

        var receipts = new List<string>();
        foreach (var r in responses)
        {
            if (r.StatusCode == HttpStatusCode.Conflict)
            {
                await r.AssertProblemAsync(HttpStatusCode.Conflict, "idempotency_in_flight");
                continue;
            }

            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
            receipts.Add(await r.Content.ReadAsStringAsync());
        }

        Assert.NotEmpty(receipts);
        Assert.Single(receipts.Distinct());
        Assert.Equal((63L, 13_700L, 0L), await terminal.BalancesAsync(memberId));
        Assert.Equal(2, await terminal.LedgerCountAsync(memberId));
    }

    [Fact]
    public async Task Sale_Replay_SameReceipt_DifferentPayloadSameKey_422_SameSaleDifferentContent_409()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (memberId, _) = await app.EnrolAsync();
        var saleId = NewSaleId();

        var first = await admin.PostAsync("/api/sales", Sale(saleId, memberId), "k-" + saleId);
        var replay = await admin.PostAsync("/api/sales", Sale(saleId, memberId), "k-" + saleId);
        var reused = await admin.PostAsync("/api/sales", Sale(NewSaleId(), memberId), "k-" + saleId);
        var changed = await admin.PostAsync("/api/sales", Sale(saleId, memberId, storeId: "hz-001"), "other-" + saleId);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await replay.Content.ReadAsStringAsync());
        Assert.Contains("true", replay.Headers.GetValues("Idempotent-Replayed"));
        await reused.AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "idempotency_key_reused");
        await changed.AssertProblemAsync(HttpStatusCode.Conflict, "sale_already_recorded");
        Assert.Equal(1, await admin.LedgerCountAsync(memberId));
    }

    [Fact]
    public async Task Sale_SaleIdOfAnotherMember_409()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (first, _) = await app.EnrolAsync();
        var (second, _) = await app.EnrolAsync();
        var saleId = NewSaleId();
        await admin.PostOkAsync("/api/sales", Sale(saleId, first));

        await (await admin.PostAsync("/api/sales", Sale(saleId, second), Guid.NewGuid().ToString())).AssertProblemAsync(HttpStatusCode.Conflict, "sale_id_conflict");
        Assert.Equal(0, await admin.LedgerCountAsync(second));
    }

    [Fact]
    public async Task Sale_LostOrFrozenCard_CannotPay_AndNothingIsWritten()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (memberId, card) = await app.EnrolAsync();
        await admin.PostOkAsync($"/api/members/{memberId}/top-ups", new { amount = 10_000, storeId = "sh-001" });

        await admin.PostOkAsync($"/api/cards/{card}/freeze", new { reason = "suspicious" });
        var frozen = await admin.PostAsync("/api/sales", Sale(NewSaleId(), cardNumber: card, sv: 1_000), Guid.NewGuid().ToString());
        var byId = await admin.PostAsync("/api/sales", Sale(NewSaleId(), memberId, sv: 1_000), Guid.NewGuid().ToString());
        await admin.PostOkAsync($"/api/cards/{card}/report-lost", new { });
        var lost = await admin.PostAsync("/api/sales", Sale(NewSaleId(), cardNumber: card), Guid.NewGuid().ToString());
        var redeem = await admin.PostAsync($"/api/members/{memberId}/redemptions", new { points = 1, storeId = "sh-001", cardNumber = card }, Guid.NewGuid().ToString());
        var topUp = await admin.PostAsync($"/api/members/{memberId}/top-ups", new { amount = 1_000, storeId = "sh-001", cardNumber = card }, Guid.NewGuid().ToString());

        await frozen.AssertProblemAsync(HttpStatusCode.Conflict, "card_frozen");
        await byId.AssertProblemAsync(HttpStatusCode.Conflict, "no_active_card");
        await lost.AssertProblemAsync(HttpStatusCode.Conflict, "card_lost");
        await redeem.AssertProblemAsync(HttpStatusCode.Conflict, "card_lost");
        await topUp.AssertProblemAsync(HttpStatusCode.Conflict, "card_lost");
        Assert.Equal((0L, 10_000L, 0L), await admin.BalancesAsync(memberId));
        Assert.Equal(1, await admin.LedgerCountAsync(memberId));
    }

    public static TheoryData<string, string, HttpStatusCode> BadSales => new()
    {
        { """{"storeId":"sh-001","memberId":"MEMBER","lines":[{"sku":"A","category":"c","quantity":1,"unitPrice":100}]}""", "sale_id_invalid", HttpStatusCode.BadRequest },
        { """{"saleId":"a b","storeId":"sh-001","memberId":"MEMBER","lines":[{"sku":"A","category":"c","quantity":1,"unitPrice":100}]}""", "sale_id_invalid", HttpStatusCode.BadRequest },
        { """{"saleId":"SALE","storeId":"sh-001","lines":[{"sku":"A","category":"c","quantity":1,"unitPrice":100}]}""", "member_reference_invalid", HttpStatusCode.BadRequest },
        { """{"saleId":"SALE","storeId":"sh-001","memberId":"MEMBER","lines":[]}""", "lines_invalid", HttpStatusCode.BadRequest },
        { """{"saleId":"SALE","storeId":"sh-001","memberId":"MEMBER","lines":[{"sku":"A","category":"c","quantity":0,"unitPrice":100}]}""", "lines_invalid", HttpStatusCode.BadRequest },
        { """{"saleId":"SALE","storeId":"sh-001","memberId":"MEMBER","lines":[{"sku":"A","category":"c","quantity":1,"unitPrice":200}],"payWithStoredValue":150}""", "insufficient_stored_value", HttpStatusCode.UnprocessableEntity },
        { """{"saleId":"SALE","storeId":"sh-001","memberId":"MEMBER","lines":[{"sku":"A","category":"c","quantity":1,"unitPrice":100}],"payWithStoredValue":500}""", "stored_value_exceeds_due", HttpStatusCode.BadRequest },
        { """{"saleId":"SALE","storeId":"sh-001","memberId":"MEMBER","lines":[{"sku":"A","category":"c","quantity":1,"unitPrice":10000}],"pointsToRedeem":10}""", "insufficient_points", HttpStatusCode.UnprocessableEntity },
        { """{"saleId":"SALE","storeId":"sh-001","memberId":"MEMBER","lines":[{"sku":"A","category":"c","quantity":1,"unitPrice":100}],"pointsEarned":1000}""", "read_only_field", HttpStatusCode.BadRequest },
        { """{"saleId":"SALE","storeId":"sh-001","memberId":"MEMBER","lines":[{"sku":"A","category":"c","quantity":1,"unitPrice":100}],"tier":"platinum"}""", "read_only_field", HttpStatusCode.BadRequest },
        { """{"saleId":"SALE","storeId":"sh-001","cardNumber":"4539578763621487","lines":[{"sku":"A","category":"c","quantity":1,"unitPrice":100}]}""", "card_number_invalid", HttpStatusCode.BadRequest },
        { """{"saleId":"SALE","storeId":"sh-001","cardNumber":"4539578763621486","lines":[{"sku":"A","category":"c","quantity":1,"unitPrice":100}]}""", "member_not_found", HttpStatusCode.NotFound },
        { """{"saleId":"SALE","storeId":"sh-001","memberId":"MZZZZZZZZZZZZ","lines":[{"sku":"A","category":"c","quantity":1,"unitPrice":100}]}""", "member_not_found", HttpStatusCode.NotFound },
        { """{"saleId":"SALE","storeId":"gz-001","memberId":"MEMBER","lines":[{"sku":"A","category":"c","quantity":1,"unitPrice":100}]}""", "forbidden_scope", HttpStatusCode.Forbidden },
    };

    [Theory]
    [MemberData(nameof(BadSales))]
    public async Task Sale_BadInput_ProblemAndNothingWritten(string template, string code, HttpStatusCode status)
    {
        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        var (memberId, _) = await app.EnrolAsync();
        await terminal.PostOkAsync($"/api/members/{memberId}/top-ups", new { amount = 100, storeId = "sh-001" });
        var saleId = NewSaleId();
        var body = template.Replace("MEMBER", memberId, StringComparison.Ordinal).Replace("SALE", saleId, StringComparison.Ordinal);

        var response = await terminal.SendAsync(Api.Json(HttpMethod.Post, "/api/sales", body, Guid.NewGuid().ToString()));

        await response.AssertProblemAsync(status, code);
        Assert.Equal((0L, 100L, 0L), await terminal.BalancesAsync(memberId));
        Assert.Equal(1, await terminal.LedgerCountAsync(memberId));
        await (await terminal.PostAsync($"/api/sales/{saleId}/refunds", new { refundId = "r1" }, Guid.NewGuid().ToString())).AssertProblemAsync(HttpStatusCode.NotFound, "sale_not_found");
    }

    private static async Task PutConfigAsync(HttpClient client, string section, string valueJson)
    {
        var response = await client.SendAsync(Api.Json(HttpMethod.Put, $"/api/config/{section}", $$"""{"value":{{valueJson}}}"""));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }
}
