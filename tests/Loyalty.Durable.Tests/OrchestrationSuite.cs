using System.Collections.Concurrent;
using System.Text.Json;
using Loyalty.Durable.History;
using Loyalty.Durable.InMemory;
using Loyalty.Durable.Model;
using Xunit;

namespace Loyalty.Durable.Tests;

/// <summary>One orchestration suite, run on every backend (design.md section 5).</summary>
public abstract class OrchestrationSuite
{
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 11, 22, 2, 0, 0, TimeSpan.Zero));
    private readonly ConcurrentBag<int> _flakyAttempts = [];
    private readonly OrchestrationRegistry _registry;
    private IOrchestrationHarness? _harness;

    protected OrchestrationSuite()
    {
        _registry = new OrchestrationRegistry()
            .AddActivity("Greet", () => new Greet())
            .AddActivity("Square", () => new Square())
            .AddActivity("Flaky", () => new Flaky(_flakyAttempts, 2))
            .AddOrchestrator("Sequence", () => new Sequence())
            .AddOrchestrator("FanOut", () => new FanOut())
            .AddOrchestrator("Sleeper", () => new Sleeper())
            .AddOrchestrator("Approval", () => new Approval())
            .AddOrchestrator("Retrying", () => new Retrying())
            .AddOrchestrator("Counter", () => new Counter())
            .AddOrchestrator("Guids", () => new Guids());
    }

    /// <summary>How many instances the many-instances test starts on this backend.</summary>
    protected virtual int ManyInstances => 1_000;

    private IOrchestrationHarness _runtime => _harness ??= CreateHarness(_registry, _clock);

    /// <summary>The backend under test.</summary>
    protected abstract IOrchestrationHarness CreateHarness(OrchestrationRegistry registry, ManualClock clock);

    [Fact]
    public async Task Sequence_RunsActivitiesInOrder_AndRecordsThemInHistory()
    {
        var id = await _runtime.StartAsync("Sequence", new[] { "a", "b", "c" });
        await _runtime.RunUntilIdleAsync();

        var state = await _runtime.GetAsync(id);
        Assert.Equal(RuntimeStatus.Completed, state!.Status);
        Assert.Equal("\"hello a, hello b, hello c\"", state.Output);
        Assert.Equal([0, 1, 2], (await _runtime.HistoryAsync(id)).OfType<TaskScheduled>().Select(t => t.TaskId));
        Assert.Equal(3, (await _runtime.HistoryAsync(id)).OfType<TaskCompleted>().Count());
    }

    [Fact]
    public async Task FanOut_MoreThanAHundredTasks_FanInSumsThem()
    {
        var id = await _runtime.StartAsync("FanOut", 150);
        await _runtime.RunUntilIdleAsync();

        var state = await _runtime.GetAsync(id);
        Assert.Equal(RuntimeStatus.Completed, state!.Status);
        Assert.Equal(Enumerable.Range(1, 150).Sum(i => (long)i * i).ToString(System.Globalization.CultureInfo.InvariantCulture), state.Output);
        Assert.Equal(150, _runtime.ActivityInvocations);
    }

    [Fact]
    public async Task Timer_FiresOnlyWhenTheClockReachesIt_CustomStatusShowsProgress()
    {
        var id = await _runtime.StartAsync("Sleeper", 90);
        await _runtime.RunUntilIdleAsync();
        var sleeping = await _runtime.GetAsync(id);

        _clock.Advance(TimeSpan.FromMinutes(89));
        await _runtime.RunUntilIdleAsync();
        var stillSleeping = await _runtime.GetAsync(id);
        _clock.Advance(TimeSpan.FromMinutes(1));
        await _runtime.RunUntilIdleAsync();
        var awake = await _runtime.GetAsync(id);

        Assert.Equal(RuntimeStatus.Running, sleeping!.Status);
        Assert.Equal("{\"phase\":\"sleeping\"}", sleeping.CustomStatus);
        Assert.Equal(RuntimeStatus.Running, stillSleeping!.Status);
        Assert.Equal(RuntimeStatus.Completed, awake!.Status);
        Assert.Equal("\"woke at 03:30\"", awake.Output);
        Assert.Equal("{\"phase\":\"awake\"}", awake.CustomStatus);
    }

    [Fact]
    public async Task ExternalEvent_BeforeTheTimeout_IsReceived_DuplicateEventIdIgnored()
    {
        var id = await _runtime.StartAsync("Approval", 24);
        await _runtime.RunUntilIdleAsync();
        await _runtime.RaiseEventAsync(id, "decision", "approved", "evt-1");
        await _runtime.RaiseEventAsync(id, "decision", "rejected", "evt-1");
        _clock.Advance(TimeSpan.FromHours(1));
        await _runtime.RunUntilIdleAsync();

        var state = await _runtime.GetAsync(id);
        Assert.Equal("\"decided: approved\"", state!.Output);
        Assert.Single((await _runtime.HistoryAsync(id)).OfType<EventRaised>());
    }

    [Fact]
    public async Task ExternalEvent_NotRaised_TimesOut()
    {
        var id = await _runtime.StartAsync("Approval", 24);
        await _runtime.RunUntilIdleAsync();
        _clock.Advance(TimeSpan.FromHours(24));
        await _runtime.RunUntilIdleAsync();

        Assert.Equal("\"expired\"", (await _runtime.GetAsync(id))!.Output);
    }

    [Fact]
    public async Task Retry_FailsTwice_SucceedsOnTheThirdAttempt_WithDurableTimersBetween()
    {
        var id = await _runtime.StartAsync("Retrying", 3);
        await _runtime.RunUntilIdleAsync();
        _clock.Advance(TimeSpan.FromSeconds(10));
        await _runtime.RunUntilIdleAsync();
        var afterSecond = await _runtime.GetAsync(id);
        _clock.Advance(TimeSpan.FromSeconds(20));
        await _runtime.RunUntilIdleAsync();

        Assert.Equal(RuntimeStatus.Running, afterSecond!.Status);
        Assert.Equal("\"ok\"", (await _runtime.GetAsync(id))!.Output);
        Assert.Equal(3, _flakyAttempts.Count);
        Assert.Equal(2, (await _runtime.HistoryAsync(id)).OfType<TimerCreated>().Count());
    }

    [Fact]
    public async Task Retry_Exhausted_FailsTheInstanceWithTheActivityError()
    {
        var id = await _runtime.StartAsync("Retrying", 2);
        await _runtime.RunUntilIdleAsync();
        _clock.Advance(TimeSpan.FromMinutes(1));
        await _runtime.RunUntilIdleAsync();

        var state = await _runtime.GetAsync(id);
        Assert.Equal(RuntimeStatus.Failed, state!.Status);
        Assert.Contains("attempt 2 fails", state.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ContinueAsNew_StartsOverWithAShortHistory()
    {
        var id = await _runtime.StartAsync("Counter", 1);
        await _runtime.RunUntilIdleAsync();

        var state = await _runtime.GetAsync(id);
        Assert.Equal(RuntimeStatus.Completed, state!.Status);
        Assert.Equal("5", state.Output);
        Assert.Equal(5, _runtime.ActivityInvocations);
        Assert.Single((await _runtime.HistoryAsync(id)).OfType<TaskScheduled>());
    }

    [Fact]
    public async Task NewGuid_IsTheSameOnEveryReplay_IsReplayingHidesReplayedCode()
    {
        var id = await _runtime.StartAsync("Guids", 0);
        await _runtime.RunUntilIdleAsync();

        var output = JsonSerializer.Deserialize<string>((await _runtime.GetAsync(id))!.Output!)!.Split('/');
        var greeted = (await _runtime.HistoryAsync(id)).OfType<TaskScheduled>().First().Input;
        Assert.Equal($"\"{output[0]}\"", greeted);
        Assert.Equal(3, output.Distinct().Count());
        Assert.Single(Guids.LoggedLive, l => l == id + ":first");
        Assert.Single(Guids.LoggedLive, l => l == id + ":second");
    }

    [Fact]
    public async Task ChangedCode_ReplayingOldHistory_FailsAsNonDeterministic()
    {
        var id = await _runtime.StartAsync("Sequence", new[] { "a", "b" });
        await _runtime.RunStepsOnlyAsync();
        _registry.AddOrchestrator("Sequence", () => new SequenceChanged());
        await _runtime.RunUntilIdleAsync();

        var state = await _runtime.GetAsync(id);
        Assert.Equal(RuntimeStatus.Failed, state!.Status);
        Assert.Contains("Non-deterministic", state.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartingARunningId_IsANoOp_TerminateAndPurge()
    {
        var id = await _runtime.StartAsync("Sleeper", 60, "daily-2026-11-22");
        await _runtime.RunUntilIdleAsync();
        var first = (await _runtime.GetAsync(id))!.ExecutionId;
        var again = await _runtime.StartAsync("Sleeper", 5, "daily-2026-11-22");

        Assert.Equal(id, again);
        Assert.Equal(first, (await _runtime.GetAsync(id))!.ExecutionId);
        Assert.Equal("60", (await _runtime.GetAsync(id))!.Input);
        Assert.True(await _runtime.TerminateAsync(id, "stopped by ops"));
        Assert.False(await _runtime.TerminateAsync(id, "again"));
        Assert.Equal(RuntimeStatus.Terminated, (await _runtime.GetAsync(id))!.Status);
        _clock.Advance(TimeSpan.FromHours(2));
        await _runtime.RunUntilIdleAsync();
        Assert.Equal(RuntimeStatus.Terminated, (await _runtime.GetAsync(id))!.Status);
        Assert.Single(await _runtime.ListAsync("Sleeper", RuntimeStatus.Terminated));
        Assert.True(await _runtime.PurgeAsync(id));
        Assert.Null(await _runtime.GetAsync(id));
    }

    [Fact]
    public async Task ManyInstances_AllComplete()
    {
        var ids = new List<string>();
        for (var i = 0; i < ManyInstances; i++)
        {
            ids.Add(await _runtime.StartAsync("Sequence", new[] { $"m{i}" }));
        }

        await _runtime.RunUntilIdleAsync();

        Assert.Equal(ManyInstances, (await _runtime.ListAsync("Sequence", RuntimeStatus.Completed)).Count);
    }
}
