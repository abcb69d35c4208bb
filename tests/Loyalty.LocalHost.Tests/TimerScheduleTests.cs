using Xunit;

namespace Loyalty.LocalHost.Tests;

public sealed class TimerScheduleTests
{
    private static readonly DateTimeOffset Noon = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("0 */5 * * * *", "2026-12-01T12:05:00+00:00")]
    [InlineData("0 0 2 * * *", "2026-12-02T02:00:00+00:00")]
    [InlineData("30 0 12 * * *", "2026-12-01T12:00:30+00:00")]
    [InlineData("*/10 * * * *", "2026-12-01T12:10:00+00:00")]
    [InlineData("00:00:20", "2026-12-01T12:00:20+00:00")]
    public void Next_InUtc(string schedule, string expected) =>
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), TimerTriggerListener.Next(schedule, Noon, TimeZoneInfo.Utc));

    [Fact]
    public void Next_InTheChainsTimeZone_IsLocalMidnight()
    {
        var shanghai = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");

        var next = TimerTriggerListener.Next("0 0 0 * * *", Noon, shanghai);

        Assert.Equal(new DateTimeOffset(2026, 12, 2, 0, 0, 0, TimeSpan.FromHours(8)), next);
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 16, 0, 0, TimeSpan.Zero), next.ToUniversalTime());
    }

    [Fact]
    public void Next_ALocalTimeThatDoesNotExist_RunsRightAfterTheGap()
    {
        var berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
        var before = new DateTimeOffset(2026, 3, 29, 0, 30, 0, TimeSpan.Zero);

        var next = TimerTriggerListener.Next("0 30 2 * * *", before, berlin);

        Assert.Equal(new DateTimeOffset(2026, 3, 29, 3, 0, 0, TimeSpan.FromHours(2)), next);
    }
}
