using System.Net;
using System.Net.Http.Json;
using Loyalty.Functions.Tags;
using Loyalty.Functions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Loyalty.Functions.Tests.Members;

public sealed class TagTests(LoyaltyApp app) : IClassFixture<LoyaltyApp>, IAsyncLifetime
{
    public async Task InitializeAsync()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var response = await admin.PutAsJsonAsync("/api/config/tag-rules", new
        {
            value = new object[]
            {
                new { tag = "big-spender", kind = "spendAtLeast", value = 10_000 },
                new { tag = "regular", kind = "purchasesAtLeast", value = 2 },
                new { tag = "active-30d", kind = "purchasedWithinDays", value = 30 },
                new { tag = "乳品爱好者", kind = "preferredCategory", category = "dairy" },
                new { tag = "high-ticket", kind = "averageTicketAtLeast", value = 6_000 },
            },
        });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private static object Sale(string memberId, string category, long price) => new
    {
        saleId = "S-" + Guid.NewGuid().ToString("N")[..20],
        storeId = "sh-001",
        memberId,
        lines = new[] { new { sku = "X", category, quantity = 1, unitPrice = price } },
    };

    private static async Task<string[]> AutoTagsAsync(HttpClient client, string memberId) =>
        [.. (await client.GetJsonAsync($"/api/members/{memberId}")).GetProperty("tags").GetProperty("auto").EnumerateArray().Select(t => t.GetString()!)];

    private static async Task<string[]> TaggedAsync(HttpClient client, string tag) =>
        [.. (await client.GetJsonAsync($"/api/tags/{Uri.EscapeDataString(tag)}/members")).GetProperty("items").EnumerateArray().Select(i => i.GetProperty("memberId").GetString()!)];

    [Fact]
    public async Task AutomaticTags_FollowPurchasesAndRefunds_AndMembersCanBeFilteredByThem()
    {
        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        var (memberId, _) = await app.EnrolAsync();

        await terminal.PostOkAsync("/api/sales", Sale(memberId, "dairy", 7_000));
        Assert.Equal(["active-30d", "high-ticket", "乳品爱好者"], await AutoTagsAsync(terminal, memberId));

        var second = await terminal.PostOkAsync("/api/sales", Sale(memberId, "bakery", 4_000));
        Assert.Equal(["active-30d", "big-spender", "regular", "乳品爱好者"], await AutoTagsAsync(terminal, memberId)); // average 5,500: no longer high-ticket
        Assert.Contains(memberId, await TaggedAsync(terminal, "big-spender"));
        Assert.DoesNotContain(memberId, await TaggedAsync(terminal, "high-ticket"));
        Assert.Contains(memberId, await TaggedAsync(terminal, "乳品爱好者"));

        // Refunding the bakery sale takes the spend below 10,000.
        await terminal.PostOkAsync($"/api/sales/{second.GetProperty("saleId").GetString()}/refunds", new { refundId = "r1" });
        Assert.DoesNotContain("big-spender", await AutoTagsAsync(terminal, memberId));
        Assert.DoesNotContain(memberId, await TaggedAsync(terminal, "big-spender"));
    }

    [Fact]
    public async Task TimeDependentTags_AreTakenAwayByTheDailyRecompute()
    {
        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        var (memberId, _) = await app.EnrolAsync();
        await terminal.PostOkAsync("/api/sales", Sale(memberId, "dairy", 1_000));
        Assert.Contains("active-30d", await AutoTagsAsync(terminal, memberId));

        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai")).DateTime);
        var recompute = app.Services.GetRequiredService<TagRecompute>();
        await recompute.RunAsync(today.AddDays(30), CancellationToken.None);
        Assert.Contains("active-30d", await AutoTagsAsync(terminal, memberId));
        var changed = await recompute.RunAsync(today.AddDays(31), CancellationToken.None);

        Assert.True(changed >= 1);
        Assert.DoesNotContain("active-30d", await AutoTagsAsync(terminal, memberId));
        Assert.DoesNotContain(memberId, await TaggedAsync(terminal, "active-30d"));
    }

    [Fact]
    public async Task ManualTags_AreSetByManagers_ListedAndValidated()
    {
        using var manager = app.Client(await app.KeyForAsync("storeManager", "sh-001"));
        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        var (memberId, _) = await app.EnrolAsync();

        var set = await manager.PutAsJsonAsync($"/api/members/{memberId}/tags", new { tags = new[] { "宝妈-12-36月", "vip-event" } });
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        Assert.Contains(memberId, await TaggedAsync(terminal, "宝妈-12-36月"));
        var view = (await terminal.GetJsonAsync($"/api/members/{memberId}")).GetProperty("tags").GetProperty("manual");
        Assert.Equal(2, view.GetArrayLength());

        var replaced = await manager.PutAsJsonAsync($"/api/members/{memberId}/tags", new { tags = new[] { "vip-event" } });
        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        Assert.DoesNotContain(memberId, await TaggedAsync(terminal, "宝妈-12-36月"));

        await (await terminal.PutAsJsonAsync($"/api/members/{memberId}/tags", new { tags = new[] { "x" } })).AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden_role");
        await (await manager.PutAsJsonAsync($"/api/members/{memberId}/tags", new { tags = new[] { "has space" } })).AssertProblemAsync(HttpStatusCode.BadRequest, "tags_invalid");
        await (await manager.PutAsJsonAsync("/api/members/M0000000000NO/tags", new { tags = new[] { "x" } })).AssertProblemAsync(HttpStatusCode.NotFound, "member_not_found");
        await (await terminal.GetAsync("/api/tags/vip-event/members?pageSize=0")).AssertProblemAsync(HttpStatusCode.BadRequest, "page_size_invalid");
    }

    [Fact]
    public async Task TagRules_AreValidated()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var noValue = await admin.PutAsJsonAsync("/api/config/tag-rules", new { value = new[] { new { tag = "x", kind = "spendAtLeast" } } });
        var unknownTier = await admin.PutAsJsonAsync("/api/config/tag-rules", new { value = new[] { new { tag = "x", kind = "tier", tier = "diamond" } } });

        Assert.Equal("value", (await noValue.AssertProblemAsync(HttpStatusCode.BadRequest, "config_invalid")).GetProperty("field").GetString());
        Assert.Equal("tier", (await unknownTier.AssertProblemAsync(HttpStatusCode.BadRequest, "config_invalid")).GetProperty("field").GetString());
    }
}
