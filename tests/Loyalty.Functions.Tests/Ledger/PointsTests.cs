using Azure.Data.Tables;
using System.Net;
using Loyalty.Functions.Tests.Support;
using Loyalty.Storage.Tables;
using Xunit;

namespace Loyalty.Functions.Tests.Ledger;

public sealed class PointsTests(LoyaltyApp app) : IClassFixture<LoyaltyApp>
{
    [Fact]
    public async Task Redeem_CatalogueReward_TakesItsPrice()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (memberId, _) = await app.EnrolAsync();
        await admin.PostOkAsync($"/api/members/{memberId}/adjustments", new { points = 600, reason = "seed" });

        var receipt = await admin.PostOkAsync($"/api/members/{memberId}/redemptions", new { rewardId = "coffee", storeId = "sh-001" });

        Assert.Equal(500, receipt.GetProperty("points").GetInt64());
        Assert.Equal("咖啡兑换券", receipt.GetProperty("rewardName").GetString());
        Assert.Equal(100, receipt.GetProperty("balances").GetProperty("points").GetInt64());
    }

    [Theory]
    [InlineData("""{"rewardId":"tote-bag","storeId":"sh-001"}""", "insufficient_points", HttpStatusCode.UnprocessableEntity)]
    [InlineData("""{"points":601,"storeId":"sh-001"}""", "insufficient_points", HttpStatusCode.UnprocessableEntity)]
    [InlineData("""{"rewardId":"yacht","storeId":"sh-001"}""", "reward_unknown", HttpStatusCode.BadRequest)]
    [InlineData("""{"rewardId":"coffee","points":5,"storeId":"sh-001"}""", "redemption_invalid", HttpStatusCode.BadRequest)]
    [InlineData("""{"points":0,"storeId":"sh-001"}""", "points_invalid", HttpStatusCode.BadRequest)]
    [InlineData("""{"points":5}""", "store_required", HttpStatusCode.BadRequest)]
    [InlineData("""{"points":5,"storeId":"sh-001","balances":1}""", "read_only_field", HttpStatusCode.BadRequest)]
    public async Task Redeem_Refused_NothingWritten(string body, string code, HttpStatusCode status)
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (memberId, _) = await app.EnrolAsync();
        await admin.PostOkAsync($"/api/members/{memberId}/adjustments", new { points = 600, reason = "seed" });

        var response = await admin.SendAsync(Api.Json(HttpMethod.Post, $"/api/members/{memberId}/redemptions", body, Guid.NewGuid().ToString()));

        await response.AssertProblemAsync(status, code);
        Assert.Equal(600, (await admin.BalancesAsync(memberId)).Points);
        Assert.Equal(1, await admin.LedgerCountAsync(memberId));
    }

    [Fact]
    public async Task Redeem_FiftyConcurrently_ExactlyFloorOfBalanceOverPriceSucceed()
    {
        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (memberId, _) = await app.EnrolAsync();
        const long balance = 1_037, price = 50;
        await admin.PostOkAsync($"/api/members/{memberId}/adjustments", new { points = balance, reason = "seed" });

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ =>
            terminal.PostAsync($"/api/members/{memberId}/redemptions", new { points = price, storeId = "sh-001" }, Guid.NewGuid().ToString())));

        Assert.All(responses, r => Assert.True((int)r.StatusCode < 500, $"got {(int)r.StatusCode}"));
        Assert.Equal(balance / price, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        foreach (var refused in responses.Where(r => r.StatusCode != HttpStatusCode.Created))
        {
            await refused.AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "insufficient_points");
        }

        Assert.Equal(balance % price, (await admin.BalancesAsync(memberId)).Points);
        Assert.Equal(1 + (balance / price), await admin.LedgerCountAsync(memberId));
    }

    [Fact]
    public async Task Adjust_WithinAuthority_AppliedAndAuditedInThePartition()
    {
        using var manager = app.Client(await app.KeyForAsync("storeManager", "sh-001"));
        var (memberId, _) = await app.EnrolAsync();

        var receipt = await manager.PostOkAsync($"/api/members/{memberId}/adjustments", new { points = 500, reason = "补录积分" });
        var entry = (await manager.GetJsonAsync($"/api/members/{memberId}/ledger")).GetProperty("items")[0];
        var audit = new List<TableEntity>();
        await foreach (var row in app.Store.Members.QueryAsync<TableEntity>(TableFilter.PartitionRowPrefix(memberId, "audit-")))
        {
            audit.Add(row);
        }

        Assert.Equal(500, receipt.GetProperty("balances").GetProperty("points").GetInt64());
        Assert.Equal("sh-001", receipt.GetProperty("storeId").GetString());
        Assert.Equal("adjustment", entry.GetProperty("type").GetString());
        Assert.Equal("补录积分", entry.GetProperty("note").GetString());
        var record = Assert.Single(audit);
        Assert.Equal("points.adjust", record.GetString("Action"));
        Assert.StartsWith("p_", record.GetString("Actor"), StringComparison.Ordinal);
        Assert.Contains("补录积分", record.GetString("After"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("storeManager", "sh-001", 501, "region", "east")]
    [InlineData("storeManager", "sh-001", -501, "region", "east")]
    [InlineData("terminal", "sh-001", 1, "store", "sh-001")]
    [InlineData("regionManager", "east", 5_001, "hq", "hq")]
    public async Task Adjust_AboveAuthority_202WithAnApproval_NothingWrittenYet(string role, string scope, long points, string level, string waitingScope)
    {
        using var caller = app.Client(await app.KeyForAsync(role, scope));
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (memberId, _) = await app.EnrolAsync();
        await admin.PostOkAsync($"/api/members/{memberId}/adjustments", new { points = 10_000, reason = "seed" });

        var response = await caller.PostAsync($"/api/members/{memberId}/adjustments", new { points, reason = "too much" }, Guid.NewGuid().ToString());

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var approval = await response.JsonAsync();
        Assert.Equal("pending", approval.GetProperty("status").GetString());
        Assert.Equal("pointsAdjustment", approval.GetProperty("action").GetString());
        Assert.Equal(points, approval.GetProperty("amount").GetInt64());
        Assert.Equal(level, approval.GetProperty("waitingFor").GetString());
        Assert.Equal(waitingScope, approval.GetProperty("waitingScopeId").GetString());
        Assert.Equal($"/api/approvals/{approval.GetProperty("approvalId").GetString()}", response.Headers.Location!.ToString());
        Assert.Equal(10_000, (await admin.BalancesAsync(memberId)).Points);
        Assert.Equal(1, await admin.LedgerCountAsync(memberId));
    }

    [Fact]
    public async Task Adjust_NegativeBeyondBalance_InsufficientPoints()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (memberId, _) = await app.EnrolAsync();
        await (await admin.PostAsync($"/api/members/{memberId}/adjustments", new { points = -1, reason = "x" }, "k")).AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "insufficient_points");
        await (await admin.PostAsync($"/api/members/{memberId}/adjustments", new { points = 5 }, "k2")).AssertProblemAsync(HttpStatusCode.BadRequest, "reason_required");
        Assert.Equal(0, await admin.LedgerCountAsync(memberId));
    }
}
