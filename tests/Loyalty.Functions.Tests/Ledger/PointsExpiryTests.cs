using Loyalty.Storage.Tables;
using Azure.Data.Tables;
using System.Net.Http.Json;
using Loyalty.Functions.Ledger;
using Loyalty.Functions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Loyalty.Functions.Tests.Ledger;

public sealed class PointsExpiryTests(LoyaltyApp app) : IClassFixture<LoyaltyApp>
{
    private static readonly TimeZoneInfo Shanghai = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");

    private static DateOnly ThisMonth
    {
        get
        {
            var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, Shanghai).DateTime);
            return new DateOnly(today.Year, today.Month, 1);
        }
    }

    private static object Sale(string memberId) => new
    {
        saleId = "S-" + Guid.NewGuid().ToString("N")[..20],
        storeId = "sh-001",
        memberId,
        lines = new[] { new { sku = "MILK", category = "dairy", quantity = 2, unitPrice = 2_550 }, new { sku = "BREAD", category = "bakery", quantity = 1, unitPrice = 1_200 } },
    };

    /// <summary>The local midnight starting <paramref name="day"/>, plus an hour.</summary>
    private static DateTimeOffset At(DateOnly day) => new DateTimeOffset(TimeZoneInfo.ConvertTimeToUtc(day.ToDateTime(new TimeOnly(1, 0)), Shanghai), TimeSpan.Zero);

    [Fact]
    public async Task EarnedPoints_ShowWhenTheyExpire_ThenExpireOnce_AfterTheTwelfthMonth()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var enrolled = await admin.PostOkAsync("/api/members", new { phone = LoyaltyApp.NewPhone(), name = "Consenting", storeId = "sh-001", marketingConsent = true });
        var memberId = enrolled.GetProperty("memberId").GetString()!;
        await admin.PostOkAsync("/api/sales", Sale(memberId));
        var lastDay = ThisMonth.AddMonths(12).AddDays(-1);

        var member = await admin.GetJsonAsync($"/api/members/{memberId}");
        var expiring = member.GetProperty("nextExpiringPoints");
        Assert.Equal(63, expiring.GetProperty("points").GetInt64());
        Assert.Equal(lastDay.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), expiring.GetProperty("lastDay").GetString());

        var expiry = app.Services.GetRequiredService<PointsExpiry>();
        var early = await expiry.RunAsync(At(lastDay.AddDays(-10)), CancellationToken.None);
        var reminder = await expiry.RunAsync(At(lastDay.AddDays(-3)), CancellationToken.None);
        Assert.Equal(0, early.PointsExpired);
        Assert.Equal(0, early.Reminded);
        Assert.Equal(0, reminder.PointsExpired);
        Assert.True(reminder.Reminded >= 1);
        Assert.Contains((await admin.GetJsonAsync($"/api/members/{memberId}/notifications")).GetProperty("items").EnumerateArray(),
            n => n.GetProperty("template").GetString() == "points_expiring" && n.GetProperty("text").GetString()!.Contains("63", StringComparison.Ordinal));
        Assert.Equal(63, (await admin.BalancesAsync(memberId)).Points);

        var run = await expiry.RunAsync(At(lastDay.AddDays(1)), CancellationToken.None);
        var again = await expiry.RunAsync(At(lastDay.AddDays(2)), CancellationToken.None);

        Assert.True(run.PointsExpired >= 63);
        Assert.Equal(0, again.MembersExpired);
        Assert.Equal(0, (await admin.BalancesAsync(memberId)).Points);
        var ledger = (await admin.GetJsonAsync($"/api/members/{memberId}/ledger")).GetProperty("items");
        Assert.Equal("expiry", ledger[0].GetProperty("type").GetString());
        Assert.Equal(-63, ledger[0].GetProperty("points").GetInt64());
        Assert.Equal(2, ledger.GetArrayLength());
        Assert.False((await admin.GetJsonAsync($"/api/members/{memberId}")).TryGetProperty("nextExpiringPoints", out _));
        Assert.True((await admin.PostOkAsync("/api/ops/reconcile", new { })).GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task Spending_UsesTheOldestPointsFirst_SoTheExpiryTakesOnlyWhatIsLeftOfThem()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (memberId, _) = await app.EnrolAsync();
        await admin.PostOkAsync($"/api/members/{memberId}/adjustments", new { points = 100, reason = "old points" });

        // Move those 100 points to an earning month thirteen months ago, as if earned then.
        var old = ThisMonth.AddMonths(-13);
        var account = (await app.Store.Members.FindEntityAsync(memberId, Storage.Members.MemberStore.AccountRow(memberId)))!;
        account["PointBatches"] = $$"""{"{{old:yyyy-MM}}":100}""";
        await app.Store.Members.UpdateEntityAsync(account, account.ETag, TableUpdateMode.Replace);
        await app.Store.Schedules.UpsertEntityAsync(new TableEntity("points-" + old.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture), memberId), TableUpdateMode.Replace);

        await admin.PostOkAsync("/api/sales", Sale(memberId)); // earns 63 this month
        await admin.PostOkAsync($"/api/members/{memberId}/redemptions", new { points = 70, storeId = "sh-001" }); // from the old points

        var run = await app.Services.GetRequiredService<PointsExpiry>().RunAsync(DateTimeOffset.UtcNow, CancellationToken.None);

        Assert.True(run.PointsExpired >= 30);
        Assert.Equal(63, (await admin.BalancesAsync(memberId)).Points);
        var entry = (await admin.GetJsonAsync($"/api/members/{memberId}/ledger")).GetProperty("items")[0];
        Assert.Equal(-30, entry.GetProperty("points").GetInt64());
        Assert.True((await admin.PostOkAsync("/api/ops/reconcile", new { })).GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task PointsExpiryPolicy_IsConfigurable_AndValidated()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var bad = await admin.PutAsJsonAsync("/api/config/points-expiry", new { value = new { enabled = true, months = 0, reminderDays = 7 } });

        await bad.AssertProblemAsync(System.Net.HttpStatusCode.BadRequest, "config_invalid");
        Assert.Equal(12, (await admin.GetJsonAsync("/api/config/points-expiry")).GetProperty("value").GetProperty("months").GetInt32());
    }
}
