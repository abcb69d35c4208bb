using Azure.Data.Tables;
using Loyalty.Storage.Tables;
using Loyalty.Testing;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Loyalty.Functions.Coupons;
using Loyalty.Functions.Notifications;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Loyalty.Functions.Tests.Coupons;

public sealed class CouponTests(LoyaltyApp app) : IClassFixture<LoyaltyApp>, IAsyncLifetime
{
    private static readonly object[] Templates =
    [
        new { templateId = "dairy-10", name = "乳品满50减10", kind = "amountOff", amountOff = 1_000, minSpend = 5_000, categories = new[] { "dairy" }, validDays = 30, reminderDaysBeforeExpiry = 3 },
        new { templateId = "pct-20", name = "八折券", kind = "percentOff", percentOff = 20, maxDiscount = 800, validDays = 30, stacksWithMemberDiscount = false },
        new { templateId = "free-bread", name = "免费面包", kind = "freeItem", sku = "BREAD", itemValue = 1_200, validDays = 1 },
        new { templateId = "east-only", name = "华东专享", kind = "amountOff", amountOff = 500, stores = new[] { "east" }, validDays = 30 },
        new { templateId = "limited", name = "限量券", kind = "amountOff", amountOff = 300, maxIssued = 3, validDays = 30 },
        new { templateId = "next-month", name = "下月券", kind = "amountOff", amountOff = 300, validFrom = "2099-01-01", validTo = "2099-01-31" },
    ];

    private static readonly object[] PackList =
        [new { packId = "welcome", name = "新人礼包", points = 200, coupons = new object[] { new { templateId = "dairy-10", quantity = 2 }, new { templateId = "free-bread" } } }];

    // Members of the other tests start without a sign-up pack; the sign-up test turns it on for itself.
    private static readonly object Packs = new { packs = PackList };

    public async Task InitializeAsync()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        await admin.PutConfigAsync("coupon-templates", Templates);
        await admin.PutConfigAsync("gift-packs", Packs);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private static object Sale(string memberId, string[] coupons, string storeId = "sh-001", string? saleId = null) => new
    {
        saleId = saleId ?? "S-" + Guid.NewGuid().ToString("N")[..20],
        storeId,
        memberId,
        lines = new[] { new { sku = "MILK", category = "dairy", quantity = 2, unitPrice = 2_550 }, new { sku = "BREAD", category = "bakery", quantity = 1, unitPrice = 1_200 } },
        couponCodes = coupons,
    };

    private static async Task<string[]> IssueAsync(HttpClient ops, string memberId, string templateId, int quantity = 1)
    {
        var receipt = await ops.PostOkAsync($"/api/members/{memberId}/coupons", new { templateId, quantity });
        return [.. receipt.GetProperty("coupons").EnumerateArray().Select(c => c.GetProperty("code").GetString()!)];
    }

    private static async Task<JsonElement> CouponAsync(HttpClient client, string memberId, string code) =>
        (await client.GetJsonAsync($"/api/members/{memberId}/coupons")).GetProperty("items").EnumerateArray().Single(c => c.GetProperty("code").GetString() == code);

    [Fact]
    public async Task Config_RefusesUnknownStores_UnknownTemplates_AndRemovingATemplateAPackUses()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var badStore = await admin.PutAsJsonAsync("/api/config/coupon-templates", new { value = new[] { new { templateId = "x", name = "x", kind = "amountOff", amountOff = 1, validDays = 1, stores = new[] { "nowhere" } } } });
        var badPack = await admin.PutAsJsonAsync("/api/config/gift-packs", new { value = new { packs = new[] { new { packId = "p", name = "p", coupons = new[] { new { templateId = "missing" } } } } } });
        var removesUsed = await admin.PutAsJsonAsync("/api/config/coupon-templates", new { value = Templates.Skip(1) });
        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        var byTerminal = await terminal.PutAsJsonAsync("/api/config/coupon-templates", new { value = Templates });

        Assert.Equal("stores", (await badStore.AssertProblemAsync(HttpStatusCode.BadRequest, "config_invalid")).GetProperty("field").GetString());
        Assert.Equal("templateId", (await badPack.AssertProblemAsync(HttpStatusCode.BadRequest, "config_invalid")).GetProperty("field").GetString());
        await removesUsed.AssertProblemAsync(HttpStatusCode.BadRequest, "config_invalid");
        await byTerminal.AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden_role");
        Assert.Equal(6, (await admin.GetJsonAsync("/api/config/coupon-templates")).GetProperty("value").GetArrayLength());
    }

    [Fact]
    public async Task Issue_IsIdempotent_ListedByState_AndOnlyForOpsAndHq()
    {
        using var ops = app.Client(await app.KeyForAsync("ops", "hq"));
        using var manager = app.Client(await app.KeyForAsync("storeManager", "sh-001"));
        var (memberId, _) = await app.EnrolAsync();

        var first = await ops.PostAsync($"/api/members/{memberId}/coupons", new { templateId = "dairy-10", quantity = 2 }, "issue-1");
        var again = await ops.PostAsync($"/api/members/{memberId}/coupons", new { templateId = "dairy-10", quantity = 2 }, "issue-1");
        var reused = await ops.PostAsync($"/api/members/{memberId}/coupons", new { templateId = "pct-20" }, "issue-1");
        var forbidden = await manager.PostAsync($"/api/members/{memberId}/coupons", new { templateId = "dairy-10" }, "issue-2");
        var unknownTemplate = await ops.PostAsync($"/api/members/{memberId}/coupons", new { templateId = "nope" }, "issue-3");
        var unknownMember = await ops.PostAsync("/api/members/m0000000000000000000000000/coupons", new { templateId = "dairy-10" }, "issue-4");
        var both = await ops.PostAsync($"/api/members/{memberId}/coupons", new { templateId = "dairy-10", giftPackId = "welcome" }, "issue-5");
        var ended = await ops.PostAsync($"/api/members/{memberId}/coupons", new { templateId = "next-month" }, "issue-6");

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var codes = (await first.JsonAsync()).GetProperty("coupons").EnumerateArray().Select(c => c.GetProperty("code").GetString()).ToList();
        Assert.Equal(2, codes.Distinct().Count());
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(codes, (await again.JsonAsync()).GetProperty("coupons").EnumerateArray().Select(c => c.GetProperty("code").GetString()).ToList());
        await reused.AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "idempotency_key_reused");
        await forbidden.AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden_role");
        await unknownTemplate.AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "coupon_template_unknown");
        await unknownMember.AssertProblemAsync(HttpStatusCode.NotFound, "member_not_found");
        await both.AssertProblemAsync(HttpStatusCode.BadRequest, "issue_invalid");
        Assert.Equal(HttpStatusCode.Created, ended.StatusCode); // the 2099 template is not over: it is not valid yet

        var issued = (await manager.GetJsonAsync($"/api/members/{memberId}/coupons?state=issued")).GetProperty("items");
        Assert.Equal(3, issued.GetArrayLength());
        Assert.Equal(0, (await manager.GetJsonAsync($"/api/members/{memberId}/coupons?state=redeemed")).GetProperty("items").GetArrayLength());
        await (await manager.GetAsync($"/api/members/{memberId}/coupons?state=lost")).AssertProblemAsync(HttpStatusCode.BadRequest, "state_invalid");
    }

    [Fact]
    public async Task Sale_ConsumesTheCoupon_ShowsItsDiscount_AndASecondUseFails()
    {
        using var ops = app.Client(await app.KeyForAsync("ops", "hq"));
        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        var (memberId, _) = await app.EnrolAsync();
        var code = (await IssueAsync(ops, memberId, "dairy-10"))[0];

        var receipt = await terminal.PostOkAsync("/api/sales", Sale(memberId, [code.ToLowerInvariant()]));

        Assert.Equal(1_000, receipt.GetProperty("couponDiscount").GetInt64());
        var used = receipt.GetProperty("coupons")[0];
        Assert.Equal(code, used.GetProperty("code").GetString());
        Assert.Equal("dairy-10", used.GetProperty("templateId").GetString());
        Assert.Equal(1_000, used.GetProperty("discount").GetInt64());
        Assert.Equal(1_000, receipt.GetProperty("lines")[0].GetProperty("couponDiscount").GetInt64());
        Assert.Equal(0, receipt.GetProperty("lines")[1].GetProperty("couponDiscount").GetInt64());
        Assert.Equal(6_300 - 1_000, receipt.GetProperty("amountDue").GetInt64());
        Assert.Equal(53, receipt.GetProperty("pointsEarned").GetInt64());
        var coupon = await CouponAsync(terminal, memberId, code);
        Assert.Equal("redeemed", coupon.GetProperty("state").GetString());
        Assert.Equal(receipt.GetProperty("saleId").GetString(), coupon.GetProperty("redeemedSaleId").GetString());

        var ledgerBefore = await terminal.LedgerCountAsync(memberId);
        var second = await terminal.PostAsync("/api/sales", Sale(memberId, [code]), Guid.NewGuid().ToString());
        await second.AssertProblemAsync(HttpStatusCode.Conflict, "coupon_used");
        Assert.Equal(ledgerBefore, await terminal.LedgerCountAsync(memberId));
    }

    [Fact]
    public async Task Quote_ShowsTheCouponsDiscount_AndLeavesItIssued()
    {
        using var ops = app.Client(await app.KeyForAsync("ops", "hq"));
        var (memberId, _) = await app.EnrolAsync();
        var code = (await IssueAsync(ops, memberId, "dairy-10"))[0];

        var quote = await ops.PostOkAsync("/api/sales/quote", Sale(memberId, [code]));

        Assert.Equal(1_000, quote.GetProperty("receipt").GetProperty("couponDiscount").GetInt64());
        Assert.Equal("issued", (await CouponAsync(ops, memberId, code)).GetProperty("state").GetString());
    }

    [Fact]
    public async Task Sale_SentAgainUnderAnotherKey_ReplaysTheReceipt_InsteadOfCouponUsed()
    {
        using var ops = app.Client(await app.KeyForAsync("ops", "hq"));
        var (memberId, _) = await app.EnrolAsync();
        var code = (await IssueAsync(ops, memberId, "dairy-10"))[0];
        var sale = Sale(memberId, [code]);

        var first = await ops.PostOkAsync("/api/sales", sale, "key-a");
        var again = await ops.PostAsync("/api/sales", sale, "key-b");

        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        Assert.Equal(first.GetProperty("pointsEarned").GetInt64(), (await again.JsonAsync()).GetProperty("pointsEarned").GetInt64());
        Assert.Equal(1, await ops.LedgerCountAsync(memberId));
    }

    [Fact]
    public async Task Sale_RefusesForeignUnknownIneligibleAndUnmetCoupons_AndChangesNothing()
    {
        using var ops = app.Client(await app.KeyForAsync("ops", "hq"));
        var (memberId, _) = await app.EnrolAsync();
        var (otherId, _) = await app.EnrolAsync();
        var foreign = (await IssueAsync(ops, otherId, "dairy-10"))[0];
        var eastOnly = (await IssueAsync(ops, memberId, "east-only"))[0];
        var dairy = (await IssueAsync(ops, memberId, "dairy-10"))[0];
        var notYet = (await IssueAsync(ops, memberId, "next-month"))[0];
        var small = new { saleId = "S-" + Guid.NewGuid().ToString("N")[..10], storeId = "sh-001", memberId, lines = new[] { new { sku = "MILK", category = "dairy", quantity = 1, unitPrice = 2_550 } }, couponCodes = new[] { dairy } };

        await (await ops.PostAsync("/api/sales", Sale(memberId, [foreign]), "k1")).AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "coupon_not_owned");
        await (await ops.PostAsync("/api/sales", Sale(memberId, ["ABCDEFGHJKMN"]), "k2")).AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "coupon_not_found");
        await (await ops.PostAsync("/api/sales", Sale(memberId, [eastOnly], storeId: "gz-001"), "k3")).AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "coupon_store_ineligible");
        await (await ops.PostAsync("/api/sales", small, "k4")).AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "coupon_min_spend_not_met");
        await (await ops.PostAsync("/api/sales", Sale(memberId, [notYet]), "k5")).AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "coupon_not_yet_valid");
        await (await ops.PostAsync("/api/sales", Sale(memberId, ["short"]), "k6")).AssertProblemAsync(HttpStatusCode.BadRequest, "coupon_codes_invalid");
        await (await ops.PostAsync("/api/sales", Sale(memberId, [dairy, dairy]), "k7")).AssertProblemAsync(HttpStatusCode.BadRequest, "coupon_codes_invalid");

        Assert.Equal(0, await ops.LedgerCountAsync(memberId));
        Assert.Equal(0, (await ops.BalancesAsync(memberId)).Points);
        var items = (await ops.GetJsonAsync($"/api/members/{memberId}/coupons")).GetProperty("items");
        Assert.All(items.EnumerateArray(), c => Assert.Equal("issued", c.GetProperty("state").GetString()));
        Assert.Equal("issued", (await CouponAsync(ops, otherId, foreign)).GetProperty("state").GetString());

        // The east-only coupon works in an east store.
        var east = await ops.PostOkAsync("/api/sales", Sale(memberId, [eastOnly], storeId: "hz-001"));
        Assert.Equal(500, east.GetProperty("couponDiscount").GetInt64());
    }

    [Fact]
    public async Task TwoSalesRacingForOneCoupon_ExactlyOneWins()
    {
        using var ops = app.Client(await app.KeyForAsync("ops", "hq"));
        var (memberId, _) = await app.EnrolAsync();
        var code = (await IssueAsync(ops, memberId, "dairy-10"))[0];

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => ops.PostAsync("/api/sales", Sale(memberId, [code]), Guid.NewGuid().ToString())));

        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        foreach (var loser in responses.Where(r => r.StatusCode != HttpStatusCode.Created))
        {
            await loser.AssertProblemAsync(HttpStatusCode.Conflict, "coupon_used");
        }

        Assert.Equal(1, await ops.LedgerCountAsync(memberId));
        var reconcile = await ops.PostOkAsync("/api/ops/reconcile", new { });
        Assert.Equal(0, reconcile.GetProperty("discrepancies").GetArrayLength());
    }

    [Fact]
    public async Task FullRefund_RestoresTheCoupon_PartialRefundDoesNot()
    {
        using var ops = app.Client(await app.KeyForAsync("ops", "hq"));
        var (memberId, _) = await app.EnrolAsync();
        var code = (await IssueAsync(ops, memberId, "dairy-10"))[0];
        var receipt = await ops.PostOkAsync("/api/sales", Sale(memberId, [code]));
        var saleId = receipt.GetProperty("saleId").GetString();

        var partial = await ops.PostOkAsync($"/api/sales/{saleId}/refunds", new { refundId = "r1", lines = new[] { new { line = 0, quantity = 1 } } });
        Assert.Equal((5_100 - 1_000) / 2, partial.GetProperty("amount").GetInt64()); // what was paid for one milk, after the coupon
        Assert.Equal(0, partial.GetProperty("couponsRestored").GetArrayLength());
        Assert.Equal("redeemed", (await CouponAsync(ops, memberId, code)).GetProperty("state").GetString());

        var rest = await ops.PostOkAsync($"/api/sales/{saleId}/refunds", new { refundId = "r2" });
        Assert.Equal(code, rest.GetProperty("couponsRestored")[0].GetString());
        var restored = await CouponAsync(ops, memberId, code);
        Assert.Equal("issued", restored.GetProperty("state").GetString());
        Assert.False(restored.TryGetProperty("redeemedSaleId", out _));

        var reuse = await ops.PostOkAsync("/api/sales", Sale(memberId, [code]));
        Assert.Equal(1_000, reuse.GetProperty("couponDiscount").GetInt64());
        var reconcile = await ops.PostOkAsync("/api/ops/reconcile", new { });
        Assert.Equal(0, reconcile.GetProperty("discrepancies").GetArrayLength());
    }

    [Fact]
    public async Task FullRefund_AfterTheCouponsWindow_LeavesItExpired()
    {
        using var ops = app.Client(await app.KeyForAsync("ops", "hq"));
        var (memberId, _) = await app.EnrolAsync();
        var code = (await IssueAsync(ops, memberId, "dairy-10"))[0];
        var receipt = await ops.PostOkAsync("/api/sales", Sale(memberId, [code]));
        var row = (await app.Store.Members.FindEntityAsync(memberId, "coupon-" + code))!;
        row["ValidUntil"] = DateTimeOffset.UtcNow.AddMinutes(-1);
        await app.Store.Members.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace);

        var refund = await ops.PostOkAsync($"/api/sales/{receipt.GetProperty("saleId").GetString()}/refunds", new { refundId = "r1" });

        Assert.Equal(0, refund.GetProperty("couponsRestored").GetArrayLength());
        Assert.Equal("expired", (await CouponAsync(ops, memberId, code)).GetProperty("state").GetString());
    }

    [Fact]
    public async Task NonStackingPercentCoupon_PricesCoveredLinesWithoutTheTierDiscount()
    {
        using var ops = app.Client(await app.KeyForAsync("ops", "hq"));
        var (memberId, _) = await app.EnrolAsync();
        await app.SetTierAsync(memberId, "gold");
        var code = (await IssueAsync(ops, memberId, "pct-20"))[0];

        var receipt = await ops.PostOkAsync("/api/sales", Sale(memberId, [code]));

        Assert.Equal(0, receipt.GetProperty("memberDiscount").GetInt64()); // the coupon covers every line
        Assert.Equal(800, receipt.GetProperty("couponDiscount").GetInt64()); // 20% of 6,300 = 1,260, capped at 800
        Assert.Equal(6_300 - 800, receipt.GetProperty("amountDue").GetInt64());
    }

    [Fact]
    public async Task FreeItemCoupon_TakesOneUnitOff_AndNeedsTheItemInTheBasket()
    {
        using var ops = app.Client(await app.KeyForAsync("ops", "hq"));
        var (memberId, _) = await app.EnrolAsync();
        var code = (await IssueAsync(ops, memberId, "free-bread"))[0];
        var noBread = new { saleId = "S-" + Guid.NewGuid().ToString("N")[..10], storeId = "sh-001", memberId, lines = new[] { new { sku = "MILK", category = "dairy", quantity = 1, unitPrice = 2_550 } }, couponCodes = new[] { code } };

        await (await ops.PostAsync("/api/sales", noBread, "fi-1")).AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "coupon_not_applicable");
        var receipt = await ops.PostOkAsync("/api/sales", Sale(memberId, [code]));

        Assert.Equal(1_200, receipt.GetProperty("couponDiscount").GetInt64());
        Assert.Equal(1_200, receipt.GetProperty("lines")[1].GetProperty("couponDiscount").GetInt64());
        Assert.Equal(0, receipt.GetProperty("lines")[1].GetProperty("net").GetInt64());
        Assert.Equal(5_100, receipt.GetProperty("amountDue").GetInt64());
    }

    [Fact]
    public async Task LimitedTemplate_NeverIssuesMoreThanItsLimit_UnderConcurrency()
    {
        using var ops = app.Client(await app.KeyForAsync("ops", "hq"));
        var members = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => app.EnrolAsync()));

        var responses = await Task.WhenAll(members.Select(m => ops.PostAsync($"/api/members/{m.MemberId}/coupons", new { templateId = "limited" }, Guid.NewGuid().ToString())));

        Assert.Equal(3, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        foreach (var refused in responses.Where(r => r.StatusCode != HttpStatusCode.Created))
        {
            await refused.AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "coupon_quota_exhausted");
        }

        var store = app.Services.GetRequiredService<Storage.Coupons.CouponStore>();
        Assert.Equal((3, 900), await store.QuotaUsedAsync("limited"));
    }

    [Fact]
    public async Task SignUpPack_IsGrantedOnceAtEnrolment_WithPointsCouponsAndTheWelcomeText()
    {
        using var ops = app.Client(await app.KeyForAsync("ops", "hq"));
        await ops.PutConfigAsync("gift-packs", new { packs = PackList, signUpPack = "welcome" });
        try
        {
            await SignUpAsync(ops);
        }
        finally
        {
            await ops.PutConfigAsync("gift-packs", Packs);
        }
    }

    private async Task SignUpAsync(HttpClient ops)
    {
        var (memberId, _) = await app.EnrolAsync();

        await Api.EventuallyAsync(async () => (await ops.GetJsonAsync($"/api/members/{memberId}/notifications")).GetProperty("items").GetArrayLength() > 0, "the welcome notification");

        var coupons = (await ops.GetJsonAsync($"/api/members/{memberId}/coupons")).GetProperty("items");
        Assert.Equal(3, coupons.GetArrayLength());
        Assert.All(coupons.EnumerateArray(), c => Assert.Equal("signup", c.GetProperty("source").GetString()));
        Assert.Equal(200, (await ops.BalancesAsync(memberId)).Points);
        var ledger = (await ops.GetJsonAsync($"/api/members/{memberId}/ledger")).GetProperty("items");
        Assert.Equal("gift", ledger[0].GetProperty("type").GetString());
        Assert.Equal("gift.signup", ledger[0].GetProperty("reason").GetString());
        var welcome = (await ops.GetJsonAsync($"/api/members/{memberId}/notifications")).GetProperty("items")[0];
        Assert.Contains("新人礼包", welcome.GetProperty("text").GetString(), StringComparison.Ordinal);

        // The member-enrolled message delivered again grants nothing more.
        using (var scope = app.Services.CreateScope())
        {
            var welcomeFunction = scope.ServiceProvider.GetRequiredService<WelcomeNewMember>();
            await welcomeFunction.RunAsync(new QueueInvocation($$"""{"memberId":"{{memberId}}"}""", "1", 2, null), CancellationToken.None);
        }

        Assert.Equal(3, (await ops.GetJsonAsync($"/api/members/{memberId}/coupons")).GetProperty("items").GetArrayLength());
        Assert.Equal(200, (await ops.BalancesAsync(memberId)).Points);
        Assert.Equal(1, await ops.LedgerCountAsync(memberId));
    }

    [Fact]
    public async Task Schedule_ExpiresDueCoupons_RemindsBeforeExpiry_AndLeavesUsedOnesAlone()
    {
        using var ops = app.Client(await app.KeyForAsync("ops", "hq"));
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var enrolled = await admin.PostOkAsync("/api/members", new { phone = LoyaltyApp.NewPhone(), name = "Consenting", storeId = "sh-001", marketingConsent = true });
        var memberId = enrolled.GetProperty("memberId").GetString()!;
        var dairy = await IssueAsync(ops, memberId, "dairy-10", 2);
        var bread = (await IssueAsync(ops, memberId, "free-bread"))[0];
        await ops.PostOkAsync("/api/sales", Sale(memberId, [dairy[1]]));
        var schedule = app.Services.GetRequiredService<CouponSchedule>();

        // 28 days on: inside the 3-day reminder window of the 30-day coupons; the 1-day bread coupon has expired.
        var first = await schedule.RunAsync(DateTimeOffset.UtcNow.AddDays(28), CancellationToken.None);
        Assert.Equal("expired", (await CouponAsync(ops, memberId, bread)).GetProperty("state").GetString());
        Assert.Equal("issued", (await CouponAsync(ops, memberId, dairy[0])).GetProperty("state").GetString());
        var reminders = (await ops.GetJsonAsync($"/api/members/{memberId}/notifications")).GetProperty("items").EnumerateArray()
            .Where(n => n.GetProperty("template").GetString() == "coupon_expiring").ToList();
        var reminder = Assert.Single(reminders);
        Assert.Equal("coupon-expiring-" + dairy[0], reminder.GetProperty("notificationId").GetString());
        Assert.True(first.Expired >= 1 && first.Reminded >= 1);

        // 40 days on: the unused dairy coupon expires; the used one stays redeemed; nothing is reminded twice.
        await schedule.RunAsync(DateTimeOffset.UtcNow.AddDays(40), CancellationToken.None);
        Assert.Equal("expired", (await CouponAsync(ops, memberId, dairy[0])).GetProperty("state").GetString());
        Assert.Equal("redeemed", (await CouponAsync(ops, memberId, dairy[1])).GetProperty("state").GetString());
        Assert.Single(
            (await ops.GetJsonAsync($"/api/members/{memberId}/notifications")).GetProperty("items").EnumerateArray(),
            n => n.GetProperty("template").GetString() == "coupon_expiring");

        var sale = await ops.PostAsync("/api/sales", Sale(memberId, [dairy[0]]), Guid.NewGuid().ToString());
        await sale.AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "coupon_expired");
    }

    [Fact]
    public async Task Revoke_WithdrawsAnIssuedCoupon_ThenSalesRefuseIt()
    {
        using var ops = app.Client(await app.KeyForAsync("ops", "hq"));
        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        var (memberId, _) = await app.EnrolAsync();
        var code = (await IssueAsync(ops, memberId, "dairy-10"))[0];

        var byTerminal = await terminal.PostAsJsonAsync($"/api/members/{memberId}/coupons/{code}/revoke", new { reason = "x" });
        var noReason = await ops.PostAsJsonAsync($"/api/members/{memberId}/coupons/{code}/revoke", new { });
        var revoked = await ops.PostAsJsonAsync($"/api/members/{memberId}/coupons/{code}/revoke", new { reason = "issued by mistake" });
        var sale = await terminal.PostAsync("/api/sales", Sale(memberId, [code]), Guid.NewGuid().ToString());

        await byTerminal.AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden_role");
        await noReason.AssertProblemAsync(HttpStatusCode.BadRequest, "reason_required");
        Assert.Equal("revoked", (await revoked.JsonAsync()).GetProperty("state").GetString());
        await sale.AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "coupon_revoked");
    }
}
