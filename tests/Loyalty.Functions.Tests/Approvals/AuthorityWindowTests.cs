using System.Net;
using Loyalty.Functions.Tests.Support;
using Xunit;

namespace Loyalty.Functions.Tests.Approvals;

/// <summary>
/// Authority limits count by day for store and region staff, per member and per operator: a refund or adjustment split
/// into parts goes to approval once the parts add up to more than the caller may do.
/// </summary>
public sealed class AuthorityWindowTests(LoyaltyApp app) : IClassFixture<LoyaltyApp>
{
    private const long HalfLimit = 50_000; // the stored-value refund threshold is 500 yuan

    [Fact]
    public async Task StoredValueRefund_SplitInTwo_TheSecondHalfGoesToApproval()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        var memberId = await MemberWithStoredValueAsync(admin, 200_000);

        var first = await RefundAsync(terminal, memberId, HalfLimit);
        var second = await RefundAsync(terminal, memberId, HalfLimit);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        Assert.Equal("storedValueRefund", (await second.JsonAsync()).GetProperty("action").GetString());
        Assert.Equal(200_000 - HalfLimit, (await admin.BalancesAsync(memberId)).Principal);
    }

    [Fact]
    public async Task StoredValueRefund_OneMemberByTwoTerminals_CountsTogether()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        using var one = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        using var other = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        var memberId = await MemberWithStoredValueAsync(admin, 200_000);

        Assert.Equal(HttpStatusCode.Created, (await RefundAsync(one, memberId, 30_000)).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await RefundAsync(other, memberId, 30_000)).StatusCode);
    }

    [Fact]
    public async Task StoredValueRefund_OneTerminalForTwoMembers_CountsTogether()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        var a = await MemberWithStoredValueAsync(admin, 100_000);
        var b = await MemberWithStoredValueAsync(admin, 100_000);

        Assert.Equal(HttpStatusCode.Created, (await RefundAsync(terminal, a, 30_000)).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await RefundAsync(terminal, b, 30_000)).StatusCode);
        Assert.Equal(100_000, (await admin.BalancesAsync(b)).Principal);
    }

    [Fact]
    public async Task StoredValueRefund_Replayed_IsNotCountedTwice()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        var memberId = await MemberWithStoredValueAsync(admin, 100_000);
        var key = Guid.NewGuid().ToString();

        var first = await terminal.PostAsync($"/api/members/{memberId}/stored-value-refunds", new { amount = 30_000, storeId = "sh-001", reason = "退卡" }, key);
        var replay = await terminal.PostAsync($"/api/members/{memberId}/stored-value-refunds", new { amount = 30_000, storeId = "sh-001", reason = "退卡" }, key);
        var next = await RefundAsync(terminal, memberId, 20_000);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, replay.StatusCode);
        Assert.Equal(HttpStatusCode.Created, next.StatusCode); // 30,000 + 20,000 is within 50,000
    }

    [Fact]
    public async Task PointsAdjustment_StoreManagerSplitsAboveTheLimit_TheSecondGoesToApproval()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        using var manager = app.Client(await app.KeyForAsync("storeManager", "sh-001"));
        var (memberId, _) = await app.EnrolAsync();

        var first = await manager.PostAsync($"/api/members/{memberId}/adjustments", new { points = 300, reason = "补偿" }, Guid.NewGuid().ToString());
        var second = await manager.PostAsync($"/api/members/{memberId}/adjustments", new { points = -300, reason = "更正" }, Guid.NewGuid().ToString());

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode); // 300 + |-300| is above the store manager's 500
        Assert.Equal(300, (await admin.BalancesAsync(memberId)).Points);
    }

    private async Task<string> MemberWithStoredValueAsync(HttpClient admin, long amount)
    {
        var (memberId, _) = await app.EnrolAsync();
        await admin.PostOkAsync($"/api/members/{memberId}/top-ups", new { amount, storeId = "sh-001" }, Guid.NewGuid().ToString());
        return memberId;
    }

    private static Task<HttpResponseMessage> RefundAsync(HttpClient client, string memberId, long amount) =>
        client.PostAsync($"/api/members/{memberId}/stored-value-refunds", new { amount, storeId = "sh-001", reason = "退卡" }, Guid.NewGuid().ToString());
}

/// <summary>Its own app: it switches the window off for the whole chain.</summary>
public sealed class AuthorityPerRequestTests(LoyaltyApp app) : IClassFixture<LoyaltyApp>
{
    [Fact]
    public async Task WindowRequest_EachRequestIsCheckedAlone()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        var current = await admin.GetJsonAsync("/api/config/adjustment-authority");
        await admin.PutConfigAsync("adjustment-authority", new { maxPoints = current.GetProperty("value").GetProperty("maxPoints"), window = "request" });
        var (memberId, _) = await app.EnrolAsync();
        await admin.PostOkAsync($"/api/members/{memberId}/top-ups", new { amount = 200_000, storeId = "sh-001" }, Guid.NewGuid().ToString());

        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 2; i++)
        {
            answers.Add((await terminal.PostAsync($"/api/members/{memberId}/stored-value-refunds", new { amount = 50_000, storeId = "sh-001", reason = "退卡" }, Guid.NewGuid().ToString())).StatusCode);
        }

        Assert.Equal([HttpStatusCode.Created, HttpStatusCode.Created], answers);
    }
}
