using Azure.Data.Tables;
using System.Net;
using Loyalty.Domain.Members;
using Loyalty.Functions.Tests.Support;
using Loyalty.Storage.Tables;
using Xunit;

namespace Loyalty.Functions.Tests.Ledger;

public sealed class CardTests(LoyaltyApp app) : IClassFixture<LoyaltyApp>
{
    [Fact]
    public async Task IssueCards_LinkedSupplementaryGroup_ShareTheAccount_RetryReusesTheNumber()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (memberId, _) = await app.EnrolAsync();
        var key = Guid.NewGuid().ToString();

        var linked = await admin.PostOkAsync($"/api/members/{memberId}/cards", new { cardType = "linked" }, key);
        var retry = await admin.PostOkAsync($"/api/members/{memberId}/cards", new { cardType = "linked" }, key);
        var group = await admin.PostOkAsync($"/api/members/{memberId}/cards", new { cardType = "group" });
        await admin.PostOkAsync($"/api/members/{memberId}/top-ups", new { amount = 2_000, storeId = "sh-001", cardNumber = group.GetProperty("cardNumber").GetString() });
        var member = await admin.GetJsonAsync($"/api/members/{memberId}");
        var byLinked = await admin.GetJsonAsync($"/api/members?cardNumber={linked.GetProperty("cardNumber").GetString()}");

        Assert.Equal(linked.GetRawText(), retry.GetRawText());
        Assert.True(CardNumber.Parse(linked.GetProperty("cardNumber").GetString()).IsSuccess);
        Assert.Equal(3, member.GetProperty("cards").GetArrayLength());
        Assert.Equal(memberId, byLinked.GetProperty("memberId").GetString());
        Assert.Equal(2_000, member.GetProperty("balances").GetProperty("storedValue").GetProperty("principal").GetInt64());
    }

    [Fact]
    public async Task SupplementaryCard_DailyLimit_Enforced()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (memberId, _) = await app.EnrolAsync();
        await admin.PostOkAsync($"/api/members/{memberId}/top-ups", new { amount = 10_000, storeId = "sh-001" });
        var child = (await admin.PostOkAsync($"/api/members/{memberId}/cards", new { cardType = "supplementary", dailyLimit = 1_500 })).GetProperty("cardNumber").GetString();
        object Sale(long amount) => new
        {
            saleId = "S-" + Guid.NewGuid().ToString("N")[..16], storeId = "sh-001", cardNumber = child,
            lines = new[] { new { sku = "A", category = "food", quantity = 1, unitPrice = amount } }, payWithStoredValue = amount,
        };

        await admin.PostOkAsync("/api/sales", Sale(1_000));
        var over = await admin.PostAsync("/api/sales", Sale(600), Guid.NewGuid().ToString());
        await admin.PostOkAsync("/api/sales", Sale(500));

        await over.AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "spending_limit_exceeded");
        Assert.Equal(8_500, (await admin.BalancesAsync(memberId)).Principal);
    }

    [Fact]
    public async Task ReportLost_CancelLost_FreezeUnfreeze_RoundTrip()
    {
        using var manager = app.Client(await app.KeyForAsync("storeManager", "sh-001"));
        var (memberId, card) = await app.EnrolAsync();

        var lost = await manager.PostOkAsync($"/api/cards/{card}/report-lost", new { reason = "customer called" });
        var again = await manager.PostAsync($"/api/cards/{card}/report-lost", new { }, null);
        var found = await manager.PostOkAsync($"/api/cards/{card}/cancel-lost", new { });
        await manager.PostOkAsync($"/api/cards/{card}/freeze", new { });
        var unfrozen = await manager.PostOkAsync($"/api/cards/{card}/unfreeze", new { });

        Assert.Equal("lost", lost.GetProperty("card").GetProperty("status").GetString());
        await again.AssertProblemAsync(HttpStatusCode.Conflict, "card_state_invalid");
        Assert.Equal("active", found.GetProperty("card").GetProperty("status").GetString());
        Assert.Equal("active", unfrozen.GetProperty("card").GetProperty("status").GetString());
        var audit = 0;
        await foreach (var _ in app.Store.Members.QueryAsync<TableEntity>(Loyalty.Storage.Tables.TableFilter.PartitionRowPrefix(memberId, "audit-")))
        {
            audit++;
        }

        Assert.Equal(4, audit);
    }

    [Fact]
    public async Task Replace_NewNumberOldDead_BalanceKept()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (memberId, card) = await app.EnrolAsync();
        await admin.PostOkAsync($"/api/members/{memberId}/top-ups", new { amount = 3_000, storeId = "sh-001" });
        await admin.PostOkAsync($"/api/cards/{card}/report-lost", new { });

        var replaced = await admin.PostOkAsync($"/api/cards/{card}/replace", new { reason = "lost on the metro" });
        var newCard = replaced.GetProperty("newCard").GetProperty("cardNumber").GetString()!;
        var oldSale = await admin.PostAsync("/api/sales", new { saleId = "S-" + Guid.NewGuid().ToString("N")[..16], storeId = "sh-001", cardNumber = card, lines = new[] { new { sku = "A", category = "food", quantity = 1, unitPrice = 100 } } }, Guid.NewGuid().ToString());
        var newSale = await admin.PostOkAsync("/api/sales", new { saleId = "S-" + Guid.NewGuid().ToString("N")[..16], storeId = "sh-001", cardNumber = newCard, payWithStoredValue = 1_000, lines = new[] { new { sku = "A", category = "food", quantity = 1, unitPrice = 1_000 } } });
        var withoutKey = await admin.PostAsync($"/api/cards/{newCard}/replace", new { }, null);

        Assert.NotEqual(card, newCard);
        Assert.Equal("cancelled", replaced.GetProperty("card").GetProperty("status").GetString());
        Assert.Equal(newCard, replaced.GetProperty("card").GetProperty("replacedBy").GetString());
        await oldSale.AssertProblemAsync(HttpStatusCode.Conflict, "card_cancelled");
        Assert.Equal(2_000, newSale.GetProperty("balances").GetProperty("storedValue").GetProperty("principal").GetInt64());
        await withoutKey.AssertProblemAsync(HttpStatusCode.BadRequest, "idempotency_key_required");
    }

    [Theory]
    [InlineData("unfreeze")]
    [InlineData("replace")]
    [InlineData("cancel")]
    public async Task Terminal_CannotUnfreezeReplaceOrCancel(string op)
    {
        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        var (_, card) = await app.EnrolAsync();
        await (await terminal.PostAsync($"/api/cards/{card}/{op}", new { }, "k")).AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden_role");
    }

    [Fact]
    public async Task UnknownCardOrOperation_404()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (_, card) = await app.EnrolAsync();
        await (await admin.PostAsync("/api/cards/4539578763621486/freeze", new { }, null)).AssertProblemAsync(HttpStatusCode.NotFound, "card_not_found");
        await (await admin.PostAsync($"/api/cards/{card}/explode", new { }, null)).AssertProblemAsync(HttpStatusCode.NotFound, "card_operation_unknown");
        await (await admin.PostAsync("/api/members/MZZZZZZZZZZZZ/cards", new { cardType = "linked" }, "k")).AssertProblemAsync(HttpStatusCode.NotFound, "member_not_found");
        await (await admin.PostAsync("/api/members/MZZZZZZZZZZZZ/cards", new { cardType = "personal" }, "k")).AssertProblemAsync(HttpStatusCode.BadRequest, "card_type_invalid");
    }
}
