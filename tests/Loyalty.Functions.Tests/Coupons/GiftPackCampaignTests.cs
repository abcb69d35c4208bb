using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Loyalty.Functions.Tests.Support;
using Xunit;

namespace Loyalty.Functions.Tests.Coupons;

public sealed class GiftPackCampaignTests(LoyaltyApp app) : IClassFixture<LoyaltyApp>
{
    private static async Task ConfigureAsync(HttpClient admin)
    {
        await admin.PutConfigAsync("coupon-templates", new[] { new { templateId = "thanks-5", name = "感恩回馈", kind = "amountOff", amountOff = 500, validDays = 14 } });
        await admin.PutConfigAsync("gift-packs", new { packs = new[] { new { packId = "thanks", name = "感恩礼包", points = 50, coupons = new[] { new { templateId = "thanks-5", quantity = 2 } } } } });
    }

    [Fact]
    public async Task Campaign_GrantsThePackOncePerMember_EvenWhenStartedTwice()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        using var ops = app.Client(await app.KeyForAsync("ops", "hq"));
        await ConfigureAsync(admin);
        var members = (await Task.WhenAll(Enumerable.Range(0, 23).Select(_ => app.EnrolAsync()))).Select(m => m.MemberId).ToList();
        var input = new { campaignId = "thanks-2026", giftPackId = "thanks", memberIds = members.Append("M0000000000NO").ToArray(), batchSize = 5 };

        var first = await ops.RunOrchestrationAsync("GiftPackCampaign", "gift-thanks-a", input);
        var second = await ops.RunOrchestrationAsync("GiftPackCampaign", "gift-thanks-b", input); // another instance, same campaign

        var output = first.GetProperty("output");
        Assert.Equal(24, output.GetProperty("targeted").GetInt32());
        Assert.Equal(23, output.GetProperty("granted").GetInt32());
        Assert.Equal(1, output.GetProperty("refusedBy").GetProperty("member_not_found").GetInt32());
        Assert.Equal(5, first.GetProperty("customStatus").GetProperty("batches").GetInt32());
        Assert.Equal(5, first.GetProperty("customStatus").GetProperty("batchesDone").GetInt32());
        Assert.Equal(23, second.GetProperty("output").GetProperty("granted").GetInt32()); // replays count as granted
        foreach (var memberId in members)
        {
            var coupons = (await ops.GetJsonAsync($"/api/members/{memberId}/coupons")).GetProperty("items");
            Assert.Equal(2, coupons.GetArrayLength());
            Assert.All(coupons.EnumerateArray(), c => Assert.Equal("campaign:thanks-2026", c.GetProperty("source").GetString()));
            Assert.Equal(50, (await ops.BalancesAsync(memberId)).Points);
        }

        var reconcile = await ops.PostOkAsync("/api/ops/reconcile", new { });
        Assert.True(reconcile.GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task Campaign_WithAnUnknownPack_RefusesEveryMember_AndGrantsNothing()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        using var ops = app.Client(await app.KeyForAsync("ops", "hq"));
        await ConfigureAsync(admin);
        var (memberId, _) = await app.EnrolAsync();

        var done = await ops.RunOrchestrationAsync("GiftPackCampaign", "gift-unknown", new { campaignId = "c2", giftPackId = "nope", memberIds = new[] { memberId } });

        Assert.Equal(1, done.GetProperty("output").GetProperty("refusedBy").GetProperty("gift_pack_unknown").GetInt32());
        Assert.Equal(0, (await ops.GetJsonAsync($"/api/members/{memberId}/coupons")).GetProperty("items").GetArrayLength());
    }
}
