using Azure.Data.Tables;
using System.Net;
using Loyalty.Functions.Campaigns;
using Loyalty.Functions.Tests.Support;
using Loyalty.Storage.Notifications;
using Loyalty.Storage.Tables;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Loyalty.Functions.Tests.Coupons;

/// <summary>The birthday run's options: a reminder N days ahead, and enrolment anniversaries with a gift once a year.</summary>
public sealed class BirthdayCareTests(LoyaltyApp app) : IClassFixture<LoyaltyApp>
{
    [Fact]
    public async Task ReminderAhead_AndAnniversaries_OncePerYear()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        using var ops = app.Client(await app.KeyForAsync("ops", "hq"));
        await admin.PutConfigAsync("gift-packs", new { packs = new[] { new { packId = "anniv", name = "周年礼", points = 66 } } });
        await admin.PutConfigAsync(BirthdayCare.Section, new { reminderDaysAhead = 3, anniversaries = true, anniversaryGiftPack = "anniv" });

        // Birthday on 18 March: reminded on the 15th. One without consent is not.
        var soon = (await admin.PostOkAsync("/api/members", new { phone = LoyaltyApp.NewPhone(), name = "小寿星", birthday = "1995-03-18", storeId = "sh-001", marketingConsent = true })).GetProperty("memberId").GetString()!;
        var quiet = (await admin.PostOkAsync("/api/members", new { phone = LoyaltyApp.NewPhone(), name = "Quiet", birthday = "1995-03-18", storeId = "sh-001" })).GetProperty("memberId").GetString()!;

        // Enrolled on 15 March 2025 (two years before the run) and on 15 March 2027 (the run's own year: no anniversary yet).
        var veteran = (await admin.PostOkAsync("/api/members", new { phone = LoyaltyApp.NewPhone(), name = "老会员", storeId = "sh-001", marketingConsent = true })).GetProperty("memberId").GetString()!;
        var (fresh, _) = await app.EnrolAsync();
        await MarkEnrolledAsync(veteran, 2025);
        await MarkEnrolledAsync(fresh, 2027);

        var first = (await ops.RunOrchestrationAsync("BirthdayGifts", "care-1", new { date = "2027-03-15" })).GetProperty("output");
        var second = (await ops.RunOrchestrationAsync("BirthdayGifts", "care-2", new { date = "2027-03-15" })).GetProperty("output");

        Assert.Equal((1, 1, 1), (first.GetProperty("reminded").GetInt32(), first.GetProperty("anniversaries").GetInt32(), first.GetProperty("anniversaryGifts").GetInt32()));
        Assert.Equal((0, 1), (second.GetProperty("reminded").GetInt32(), second.GetProperty("anniversaryGifts").GetInt32())); // sent already; the gift replays
        Assert.Equal(66, (await admin.BalancesAsync(veteran)).Points);
        Assert.Equal(0, (await admin.BalancesAsync(fresh)).Points);
        var notifications = app.Services.GetRequiredService<NotificationStore>();
        Assert.Equal("birthday_reminder", (await notifications.GetAsync(soon, "birthday-reminder-2027"))!.Template);
        Assert.Null(await notifications.GetAsync(quiet, "birthday-reminder-2027"));
        Assert.Contains("2 周年", (await notifications.GetAsync(veteran, "anniversary-2027"))!.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadOptions_Are400()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        foreach (var value in new object[] { new { reminderDaysAhead = 0 }, new { anniversaries = true, anniversaryGiftPack = "missing" } })
        {
            var response = await admin.PutAsync("/api/config/" + BirthdayCare.Section, System.Net.Http.Json.JsonContent.Create(new { value }));
            await response.AssertProblemAsync(HttpStatusCode.BadRequest, "config_invalid");
        }
    }

    private async Task MarkEnrolledAsync(string memberId, int year)
    {
        var profile = (await app.Store.Members.FindEntityAsync(memberId, Storage.Members.MemberStore.ProfileRow(memberId)))!;
        profile["EnrolledAt"] = new DateTimeOffset(year, 3, 15, 2, 0, 0, TimeSpan.Zero);
        await app.Store.Members.UpdateEntityAsync(profile, profile.ETag, TableUpdateMode.Replace);
        await app.Store.Schedules.UpsertEntityAsync(new TableEntity(BirthdayCalendar.AnniversaryPartition(new DateOnly(year, 3, 15)), memberId) { ["Year"] = year }, TableUpdateMode.Replace);
    }
}
