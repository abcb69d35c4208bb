using System.Net;
using Loyalty.Functions.Tests.Support;
using Xunit;

namespace Loyalty.Functions.Tests.Ledger;

public sealed class RefundTests(LoyaltyApp app) : IClassFixture<LoyaltyApp>
{
    private static string NewId() => "S-" + Guid.NewGuid().ToString("N")[..20];

    private async Task<(HttpClient Client, string MemberId, string SaleId)> SaleAsync(long storedValue, long pointsToRedeem = 0)
    {
        var client = app.Client(LoyaltyApp.AdminKey);
        var (memberId, _) = await app.EnrolAsync();
        await client.PostOkAsync($"/api/members/{memberId}/top-ups", new { amount = 50_000, storeId = "sh-001" });
        if (pointsToRedeem > 0)
        {
            await client.PostOkAsync($"/api/members/{memberId}/adjustments", new { points = pointsToRedeem, reason = "seed" });
        }

        var saleId = NewId();
        await client.PostOkAsync("/api/sales", new
        {
            saleId, storeId = "sh-001", memberId, payWithStoredValue = storedValue, pointsToRedeem,
            lines = new[] { new { sku = "A", category = "food", quantity = 4, unitPrice = 2_500 }, new { sku = "B", category = "food", quantity = 1, unitPrice = 1 } },
        });
        return (client, memberId, saleId);
    }

    [Fact]
    public async Task Refund_Full_RestoresStoredValueAsTakenAndClawsBackPoints()
    {
        // Balance 50,000 principal + 5,000 bonus; pays 8,000: 5,000 bonus first, then 3,000 principal; earns 100 points.
        var (client, memberId, saleId) = await SaleAsync(8_000);

        var refund = await client.PostOkAsync($"/api/sales/{saleId}/refunds", new { refundId = "full" });

        Assert.Equal(10_001, refund.GetProperty("amount").GetInt64());
        Assert.Equal(3_000, refund.GetProperty("storedValueRestored").GetProperty("principal").GetInt64());
        Assert.Equal(5_000, refund.GetProperty("storedValueRestored").GetProperty("bonus").GetInt64());
        Assert.Equal(100, refund.GetProperty("pointsClawedBack").GetInt64());
        Assert.Equal(2_001, refund.GetProperty("cashRefund").GetInt64());
        Assert.Equal(0, refund.GetProperty("remainingRefundable").GetInt64());
        Assert.Equal((0L, 50_000L, 5_000L), await client.BalancesAsync(memberId));
    }

    [Fact]
    public async Task Refund_PartialsUpToTheOriginal_NeverBeyond()
    {
        var (client, memberId, saleId) = await SaleAsync(8_000, pointsToRedeem: 1_000);

        var byLine = await client.PostOkAsync($"/api/sales/{saleId}/refunds", new { refundId = "r1", lines = new[] { new { line = 0, quantity = 1 } } });
        var byAmount = await client.PostOkAsync($"/api/sales/{saleId}/refunds", new { refundId = "r2", amount = 3_333 });
        var rest = await client.PostOkAsync($"/api/sales/{saleId}/refunds", new { refundId = "r3" });
        var beyond = await client.PostAsync($"/api/sales/{saleId}/refunds", new { refundId = "r4", amount = 1 }, Guid.NewGuid().ToString());
        var tooManyUnits = await client.PostAsync($"/api/sales/{saleId}/refunds", new { refundId = "r5", lines = new[] { new { line = 0, quantity = 1 } } }, Guid.NewGuid().ToString());

        Assert.Equal(2_500, byLine.GetProperty("amount").GetInt64());
        Assert.Equal(10_001 - 2_500 - 3_333, rest.GetProperty("amount").GetInt64());
        await beyond.AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "refund_exceeds_sale");
        await tooManyUnits.AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "refund_exceeds_sale");
        var totalPrincipal = new[] { byLine, byAmount, rest }.Sum(r => r.GetProperty("storedValueRestored").GetProperty("total").GetInt64());
        Assert.Equal(8_000, totalPrincipal);
        Assert.Equal(1_000, new[] { byLine, byAmount, rest }.Sum(r => r.GetProperty("pointsRestored").GetInt64()));
        Assert.Equal((1_000L, 50_000L, 5_000L), await client.BalancesAsync(memberId));
        client.Dispose();
    }

    [Fact]
    public async Task Refund_AfterPointsWereSpent_StillSucceeds_OverdrawsPoints_AndLaterEarningsRepay()
    {
        var (client, memberId, saleId) = await SaleAsync(0);
        await client.PostOkAsync($"/api/members/{memberId}/redemptions", new { points = 100, storeId = "sh-001" });

        await client.PostOkAsync($"/api/sales/{saleId}/refunds", new { refundId = "full" });
        var overdrawn = await client.BalancesAsync(memberId);
        await client.PostOkAsync("/api/sales", new { saleId = NewId(), storeId = "sh-001", memberId, lines = new[] { new { sku = "A", category = "food", quantity = 1, unitPrice = 15_000 } } });
        var after = await client.BalancesAsync(memberId);
        var blocked = await client.PostAsync($"/api/members/{memberId}/redemptions", new { points = 100, storeId = "sh-001" }, Guid.NewGuid().ToString());

        Assert.Equal(-100, overdrawn.Points);
        Assert.Equal(50, after.Points);
        await blocked.AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "insufficient_points");
        client.Dispose();
    }

    [Fact]
    public async Task Refund_SameRefundIdAgain_ReplaysOnce_DifferentContent_409()
    {
        var (client, memberId, saleId) = await SaleAsync(0);

        var first = await client.PostOkAsync($"/api/sales/{saleId}/refunds", new { refundId = "r1", amount = 100 });
        var again = await client.PostOkAsync($"/api/sales/{saleId}/refunds", new { refundId = "r1", amount = 100 });
        var changed = await client.PostAsync($"/api/sales/{saleId}/refunds", new { refundId = "r1", amount = 200 }, Guid.NewGuid().ToString());

        Assert.Equal(first.GetRawText(), again.GetRawText());
        await changed.AssertProblemAsync(HttpStatusCode.Conflict, "refund_id_reused");
        Assert.Equal(3, await client.LedgerCountAsync(memberId));
        client.Dispose();
    }

    [Theory]
    [InlineData("""{"refundId":"r","amount":100,"lines":[{"line":0,"quantity":1}]}""", "refund_invalid", HttpStatusCode.BadRequest)]
    [InlineData("""{"refundId":"r","lines":[{"line":9,"quantity":1}]}""", "refund_invalid", HttpStatusCode.BadRequest)]
    [InlineData("""{"refundId":"r","amount":0}""", "refund_exceeds_sale", HttpStatusCode.UnprocessableEntity)]
    [InlineData("""{"amount":10}""", "refund_id_invalid", HttpStatusCode.BadRequest)]
    [InlineData("""{"refundId":"r","storeId":"nowhere"}""", "store_unknown", HttpStatusCode.BadRequest)]
    [InlineData("""{"refundId":"r","cashRefund":5}""", "read_only_field", HttpStatusCode.BadRequest)]
    public async Task Refund_BadInput_ProblemAndNothingWritten(string body, string code, HttpStatusCode status)
    {
        var (client, memberId, saleId) = await SaleAsync(1_000);
        var before = await client.BalancesAsync(memberId);

        var response = await client.SendAsync(Api.Json(HttpMethod.Post, $"/api/sales/{saleId}/refunds", body, Guid.NewGuid().ToString()));

        await response.AssertProblemAsync(status, code);
        Assert.Equal(before, await client.BalancesAsync(memberId));
        Assert.Equal(2, await client.LedgerCountAsync(memberId));
        client.Dispose();
    }

    [Fact]
    public async Task Refund_UnknownSale_404_OtherStoreTerminal_403()
    {
        var (client, _, saleId) = await SaleAsync(0);
        using var otherTerminal = app.Client(await app.KeyForAsync("terminal", "gz-001"));

        await (await client.PostAsync("/api/sales/NO-SUCH-SALE/refunds", new { refundId = "r" }, "k")).AssertProblemAsync(HttpStatusCode.NotFound, "sale_not_found");
        await (await otherTerminal.PostAsync($"/api/sales/{saleId}/refunds", new { refundId = "r" }, "k")).AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden_scope");
        client.Dispose();
    }

    [Theory]
    [InlineData("""{"refundId":"r-line1","lines":[{"line":0,"quantity":4}]}""")]
    [InlineData("""{"refundId":"r-rest"}""")]
    [InlineData("""{"refundId":"r-amount","amount":10001}""")]
    public async Task Refund_SameRefundIdUnderAnotherIdempotencyKey_AnswersTheFirstReceipt_AndChangesNothing(string body)
    {
        var (client, memberId, saleId) = await SaleAsync(8_000);
        var url = $"/api/sales/{saleId}/refunds";
        var first = await client.SendAsync(Api.Json(HttpMethod.Post, url, body, Guid.NewGuid().ToString()));
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var balances = await client.BalancesAsync(memberId);
        var entries = await client.LedgerCountAsync(memberId);

        var again = await client.SendAsync(Api.Json(HttpMethod.Post, url, body, Guid.NewGuid().ToString()));

        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await again.Content.ReadAsStringAsync());
        Assert.Equal(balances, await client.BalancesAsync(memberId));
        Assert.Equal(entries, await client.LedgerCountAsync(memberId));
    }

    [Fact]
    public async Task Refund_SameRefundIdWithOtherContent_409RefundIdReused()
    {
        var (client, _, saleId) = await SaleAsync(8_000);
        await client.PostOkAsync($"/api/sales/{saleId}/refunds", new { refundId = "r-once", lines = new[] { new { line = 0, quantity = 1 } } });

        var other = await client.PostAsync($"/api/sales/{saleId}/refunds", new { refundId = "r-once", lines = new[] { new { line = 0, quantity = 2 } } }, Guid.NewGuid().ToString());

        await other.AssertProblemAsync(HttpStatusCode.Conflict, "refund_id_reused");
    }
}
