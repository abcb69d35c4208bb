using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Loyalty.Functions.Campaigns;
using Loyalty.Functions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Loyalty.Functions.Tests.Coupons;

public sealed class BirthdayGiftsTests(LoyaltyApp app) : IClassFixture<LoyaltyApp>
{
    private static DateOnly Today => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai")).DateTime);

    [Fact]
    public async Task TodaysMembers_GetTheirTiersGiftOncePerYear_AndTheDailyStartIsANoOpTheSecondTime()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        using var ops = app.Client(await app.KeyForAsync("ops", "hq"));
        await admin.PutConfigAsync("coupon-templates", new[] { new { templateId = "bday-cake", name = "生日蛋糕券", kind = "amountOff", amountOff = 2_000, validDays = 30 } });
        await admin.PutConfigAsync("gift-packs", new { packs = new[] { new { packId = "bday", name = "生日礼包", points = 188, coupons = new[] { new { templateId = "bday-cake" } } } } });
        await admin.PutConfigAsync("tiers", new object[]
        {
            new { code = "standard", name = "普通会员", pricePercent = 10_000, pointsMultiplierPercent = 100, birthdayGiftPack = "bday" },
            new { code = "silver", name = "白银会员", pricePercent = 9_800, pointsMultiplierPercent = 120, threshold = 100_000, birthdayGiftPack = "bday" },
            new { code = "gold", name = "黄金会员", pricePercent = 9_500, pointsMultiplierPercent = 150, threshold = 500_000 },
        });

        var birthday = new DateOnly(1990, Today.Month, Today.Day == 29 && Today.Month == 2 ? 28 : Today.Day).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var other = new DateOnly(1990, Today.AddDays(3).Month, Math.Min(Today.AddDays(3).Day, 28)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var celebrated = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var body = await admin.PostOkAsync("/api/members", new { phone = LoyaltyApp.NewPhone(), name = $"寿星{i}", birthday, storeId = "sh-001", marketingConsent = i == 0 });
            celebrated.Add(body.GetProperty("memberId").GetString()!);
        }

        var notToday = (await admin.PostOkAsync("/api/members", new { phone = LoyaltyApp.NewPhone(), name = "Other", birthday = other, storeId = "sh-001" })).GetProperty("memberId").GetString()!;
        await app.SetTierAsync(celebrated[2], "gold"); // gold has no birthday pack
        var date = Today.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

        var first = (await ops.RunOrchestrationAsync("BirthdayGifts", BirthdayGiftsInstance(date), new { date })).GetProperty("output");
        var again = (await ops.RunOrchestrationAsync("BirthdayGifts", "birthday-rerun-" + Guid.NewGuid().ToString("N")[..6], new { date })).GetProperty("output");

        Assert.Equal(3, first.GetProperty("members").GetInt32());
        Assert.Equal(2, first.GetProperty("granted").GetInt32());
        Assert.Equal(1, first.GetProperty("noGift").GetInt32());
        Assert.Equal(1, first.GetProperty("notified").GetInt32()); // marketing consent: only the first member
        Assert.Equal(2, again.GetProperty("granted").GetInt32()); // replays of this year's grants
        foreach (var memberId in celebrated.Take(2))
        {
            Assert.Equal(188, (await ops.BalancesAsync(memberId)).Points);
            Assert.Single((await ops.GetJsonAsync($"/api/members/{memberId}/coupons")).GetProperty("items").EnumerateArray());
        }

        Assert.Equal(0, (await ops.BalancesAsync(celebrated[2])).Points);
        Assert.Equal(0, (await ops.BalancesAsync(notToday)).Points);
        Assert.Contains((await ops.GetJsonAsync($"/api/members/{celebrated[0]}/notifications")).GetProperty("items").EnumerateArray(),
            n => n.GetProperty("template").GetString() == "birthday" && n.GetProperty("text").GetString()!.Contains("生日礼包", StringComparison.Ordinal));

        // The daily timer finds today's instance and starts nothing.
        var before = await ops.GetJsonAsync($"/api/orchestrations/{BirthdayGiftsInstance(date)}");
        using (var scope = app.Services.CreateScope())
        {
            // As the timer function's [DurableClient] binding would, hand the starter the app's task hub client.
            scope.ServiceProvider.GetRequiredService<Loyalty.Functions.Durable.DurableClients>().Use(app.DurableClient());
            await scope.ServiceProvider.GetRequiredService<StartBirthdayGifts>().RunAsync(new Loyalty.Functions.Hosting.TimerInvocation(DateTimeOffset.UtcNow, false), CancellationToken.None);
        }

        var after = await ops.GetJsonAsync($"/api/orchestrations/{BirthdayGiftsInstance(date)}");
        Assert.Equal(before.GetProperty("createdTime").GetString(), after.GetProperty("createdTime").GetString());
        Assert.Equal("Completed", after.GetProperty("runtimeStatus").GetString());
    }

    private static string BirthdayGiftsInstance(string date) => "birthday-" + date;

    [Theory]
    [InlineData("2027-02-28", true)] // common year: 29 February birthdays are celebrated on the 28th
    [InlineData("2028-02-28", false)] // leap year: they have their own day
    [InlineData("2028-02-29", true)] // ... on the 29th itself
    public void LeapDayBirthdays_AreCelebratedOnThe28thInCommonYears(string date, bool includesLeapDay)
    {
        var partitions = BirthdayCalendar.PartitionsFor(DateOnly.ParseExact(date, "yyyy-MM-dd", CultureInfo.InvariantCulture));

        Assert.Equal(includesLeapDay, partitions.Contains("birthday-02-29"));
        Assert.Contains(BirthdayCalendar.Partition(DateOnly.ParseExact(date, "yyyy-MM-dd", CultureInfo.InvariantCulture)), partitions);
    }
}
