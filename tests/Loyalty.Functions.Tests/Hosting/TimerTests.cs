using System.Collections.Concurrent;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Hosting.Local;
using Loyalty.Functions.Hosting.Timers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Loyalty.Functions.Tests.Hosting;

public sealed class TimerTests
{
    [Theory]
    [InlineData("0 30 3 * * *", "2026-11-22T03:29:59Z", "2026-11-22T03:30:00Z")]
    [InlineData("0 30 3 * * *", "2026-11-22T03:30:00Z", "2026-11-23T03:30:00Z")]
    [InlineData("*/15 * * * * *", "2026-11-22T10:00:07Z", "2026-11-22T10:00:15Z")]
    [InlineData("0 */5 9-17 * * Mon-Fri", "2026-11-21T12:00:00Z", "2026-11-23T09:00:00Z")]
    [InlineData("0 0 0 15 * *", "2026-11-22T00:00:00Z", "2026-12-15T00:00:00Z")]
    [InlineData("0 0 0 29 Feb *", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z")]
    [InlineData("0 0 12 * * 0", "2026-11-22T12:00:01Z", "2026-11-29T12:00:00Z")]
    [InlineData("0 0 12 * * 7", "2026-11-22T11:00:00Z", "2026-11-22T12:00:00Z")]
    [InlineData("5,10 0 0 1 1 *", "2026-01-01T00:00:05Z", "2026-01-01T00:00:10Z")]
    [InlineData("0 0 0 1-7 * SUN", "2026-11-22T00:00:00Z", "2026-12-06T00:00:00Z")]
    public void GetNextOccurrence_MatchesNcrontab(string expression, string after, string expected)
    {
        var next = CronSchedule.Parse(expression).GetNextOccurrence(DateTimeOffset.Parse(after, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), next);
    }

    [Theory]
    [InlineData("* * * * *")]
    [InlineData("60 * * * * *")]
    [InlineData("* * 24 * * *")]
    [InlineData("* * * 0 * *")]
    [InlineData("* * * * 13 *")]
    [InlineData("* * * * * 8")]
    [InlineData("*/0 * * * * *")]
    [InlineData("5-1 * * * * *")]
    [InlineData("x * * * * *")]
    public void Parse_Invalid_Throws(string expression) => Assert.False(CronSchedule.IsValid(expression));

    [Fact]
    public void Catalogue_EveryTimerScheduleParses()
    {
        var timers = FunctionCatalog.Build(new Loyalty.Storage.Schema.StorageNames()).Select(f => f.Trigger).OfType<TimerTrigger>().ToList();
        Assert.NotEmpty(timers);
        Assert.All(timers, t => Assert.True(CronSchedule.IsValid(t.Schedule), t.Schedule));
    }

    [Fact]
    public async Task Scheduler_EverySecond_FiresAtWholeSecondsInOrder()
    {
        var fired = new ConcurrentQueue<TimerInvocation>();
        var services = new ServiceCollection().AddSingleton(new CountingTimer(fired)).BuildServiceProvider();
        var trigger = new TimerTrigger("* * * * * *");
        using var scheduler = new TimerScheduler(
            new FunctionDefinition("Tick", trigger, typeof(CountingTimer)), trigger, TimeProvider.System, services.GetRequiredService<IServiceScopeFactory>(), NullLogger<TimerScheduler>.Instance);

        await scheduler.StartAsync(CancellationToken.None);
        await Support.Api.EventuallyAsync(() => Task.FromResult(fired.Count >= 2), "two timer firings");
        await scheduler.StopAsync(CancellationToken.None);

        var times = fired.Select(f => f.ScheduledAt).ToList();
        Assert.All(times, t => Assert.Equal(0, t.Millisecond));
        Assert.Equal(TimeSpan.FromSeconds(1), times[1] - times[0]);
    }

    private sealed class CountingTimer(ConcurrentQueue<TimerInvocation> fired) : ITimerFunction
    {
        public Task RunAsync(TimerInvocation invocation, CancellationToken cancellationToken)
        {
            fired.Enqueue(invocation);
            return Task.CompletedTask;
        }
    }
}
