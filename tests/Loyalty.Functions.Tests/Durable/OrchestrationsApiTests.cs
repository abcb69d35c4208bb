using System.Net;
using System.Text.Json;
using Loyalty.Functions.Tests.Support;
using Xunit;

namespace Loyalty.Functions.Tests.Durable;

/// <summary>
/// The management API over the app's own orchestrations (GiftPackCampaign: a short one over one unknown member, and a
/// long one of single-member batches that is still running when it is terminated).
/// </summary>
public sealed class OrchestrationsApiTests(LoyaltyApp app) : IClassFixture<LoyaltyApp>
{
    private static object Campaign(int members) =>
        new { campaignId = "api-" + Guid.NewGuid().ToString("N")[..8], giftPackId = "thanks", memberIds = Enumerable.Range(0, members).Select(i => $"M{i:D12}").ToArray(), batchSize = 1 };

    private async Task ConfigureAsync()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        await admin.PutConfigAsync("coupon-templates", new[] { new { templateId = "thanks-5", name = "感恩回馈", kind = "amountOff", amountOff = 500, validDays = 14 } });
        await admin.PutConfigAsync("gift-packs", new { packs = new[] { new { packId = "thanks", name = "感恩礼包", points = 50, coupons = new[] { new { templateId = "thanks-5", quantity = 1 } } } } });
    }

    [Fact]
    public async Task Start_Returns202WithDurableLinks_StatusRunsThenCompletes()
    {
        await ConfigureAsync();
        using var ops = app.Client(await app.KeyForAsync("ops", "hq"));
        var input = Campaign(1);

        var start = await ops.PostAsync("/api/orchestrations/GiftPackCampaign", input, null);
        var links = await start.JsonAsync();
        var id = links.GetProperty("id").GetString()!;
        JsonElement done = default;
        await Api.EventuallyAsync(
            async () =>
            {
                var response = await ops.GetAsync($"/api/orchestrations/{id}");
                done = await response.JsonAsync();
                return response.StatusCode == HttpStatusCode.OK;
            },
            "the instance to complete");

        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        foreach (var link in new[] { "statusQueryGetUri", "sendEventPostUri", "terminatePostUri", "purgeHistoryDeleteUri" })
        {
            Assert.Contains($"/api/orchestrations/{id}", links.GetProperty(link).GetString(), StringComparison.Ordinal);

            // On the address the caller used, not the worker's own port behind the host.
            Assert.StartsWith(app.Host.BaseAddress.GetLeftPart(UriPartial.Authority), links.GetProperty(link).GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(links.GetProperty("statusQueryGetUri").GetString(), start.Headers.Location?.ToString());

        Assert.Equal("Completed", done.GetProperty("runtimeStatus").GetString());
        Assert.Equal(1, done.GetProperty("output").GetProperty("targeted").GetInt32());
        Assert.Equal(JsonValueKind.Object, done.GetProperty("customStatus").ValueKind);
        Assert.Equal(1, done.GetProperty("input").GetProperty("memberIds").GetArrayLength());
        await (await ops.PostAsync($"/api/orchestrations/{id}/terminate", new { }, null)).AssertProblemAsync(HttpStatusCode.Gone, "instance_finished");
        await (await ops.PostAsync($"/api/orchestrations/{id}/events/go", "x", null)).AssertProblemAsync(HttpStatusCode.Gone, "instance_finished");
        Assert.Contains((await ops.GetJsonAsync("/api/orchestrations?name=GiftPackCampaign&status=completed")).GetProperty("items").EnumerateArray(), i => i.GetProperty("instanceId").GetString() == id);
        Assert.Equal(HttpStatusCode.OK, (await ops.DeleteAsync($"/api/orchestrations/{id}")).StatusCode);
        await (await ops.GetAsync($"/api/orchestrations/{id}")).AssertProblemAsync(HttpStatusCode.NotFound, "instance_not_found");
    }

    [Fact]
    public async Task StartWithAnInstanceId_Twice_IsOneInstance_TerminateStopsIt()
    {
        await ConfigureAsync();
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var id = "campaign-" + Guid.NewGuid().ToString("N")[..8];
        var long1 = Campaign(1_000);

        var first = await (await admin.PostAsync($"/api/orchestrations/GiftPackCampaign?instanceId={id}", long1, null)).JsonAsync();
        var second = await (await admin.PostAsync($"/api/orchestrations/GiftPackCampaign?instanceId={id}", Campaign(3), null)).JsonAsync();
        var terminated = await admin.PostAsync($"/api/orchestrations/{id}/terminate?reason=budget%20cut", new { }, null);
        JsonElement state = default;
        await Api.EventuallyAsync(
            async () =>
            {
                state = await (await admin.GetAsync($"/api/orchestrations/{id}")).JsonAsync();
                return state.GetProperty("runtimeStatus").GetString() != "Running" && state.GetProperty("runtimeStatus").GetString() != "Pending";
            },
            "the instance to stop");

        Assert.Equal(id, first.GetProperty("id").GetString());
        Assert.Equal(id, second.GetProperty("id").GetString());
        Assert.Equal(HttpStatusCode.Accepted, terminated.StatusCode);
        Assert.Equal("Terminated", state.GetProperty("runtimeStatus").GetString());
        Assert.Equal(1_000, state.GetProperty("input").GetProperty("memberIds").GetArrayLength());
        Assert.Equal("budget cut", state.GetProperty("output").GetString());
    }

    [Theory]
    [InlineData("BirthdayGifts", "{\"date\":\"2026-13-45\"}", "input_invalid")]
    [InlineData("BirthdayGifts", "{}", "input_invalid")]
    [InlineData("BirthdayGifts", "{\"date\":20261201}", "input_invalid")]
    [InlineData("GiftPackCampaign", "{\"campaignId\":\"c1\",\"giftPackId\":\"thanks\",\"memberIds\":[\"M1\"],\"batchSize\":0}", "input_invalid")]
    [InlineData("GiftPackCampaign", "{\"giftPackId\":\"thanks\",\"memberIds\":[]}", "input_invalid")]
    [InlineData("Approval", "{}", "orchestration_not_startable")]
    public async Task Start_WithBadInput_Is400AtOnce_AndStartsNothing(string name, string input, string code)
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var id = "bad-" + Guid.NewGuid().ToString("N")[..8];

        var start = await admin.SendAsync(Api.Json(HttpMethod.Post, $"/api/orchestrations/{name}?instanceId={id}", input));

        await start.AssertProblemAsync(HttpStatusCode.BadRequest, code);
        await (await admin.GetAsync($"/api/orchestrations/{id}")).AssertProblemAsync(HttpStatusCode.NotFound, "instance_not_found");
    }

    [Fact]
    public async Task OnlyOpsAndHqAdmins_UnknownNamesAndIds_404()
    {
        using var manager = app.Client(await app.KeyForAsync("regionManager", "east"));
        using var admin = app.Client(LoyaltyApp.AdminKey);

        await (await manager.PostAsync("/api/orchestrations/GiftPackCampaign", "x", null)).AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden_role");
        await (await manager.GetAsync("/api/orchestrations")).AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden_role");
        await (await admin.PostAsync("/api/orchestrations/NoSuchThing", "x", null)).AssertProblemAsync(HttpStatusCode.NotFound, "orchestration_unknown");
        await (await admin.GetAsync("/api/orchestrations/nope")).AssertProblemAsync(HttpStatusCode.NotFound, "instance_not_found");
        await (await admin.GetAsync("/api/orchestrations?status=sleeping")).AssertProblemAsync(HttpStatusCode.BadRequest, "status_invalid");
    }
}
