using System.Collections.Concurrent;
using System.Text.Json;
using Loyalty.Domain.Approvals;
using Loyalty.Durable.InMemory;
using Loyalty.Durable.Model;
using Loyalty.Functions.Approvals;
using Xunit;

namespace Loyalty.Functions.Tests.Approvals;

/// <summary>
/// Every branch of the approval workflow on the in-memory backend with a controlled clock: the activities are
/// recording doubles, so what is checked is the workflow's own decisions (which stage opens when, and how it ends).
/// </summary>
public sealed class ApprovalWorkflowTests
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);
    private static readonly DateTimeOffset Start = new(2026, 11, 2, 1, 0, 0, TimeSpan.Zero);

    // Store (settles up to 500, escalates after 24 h), region (escalates after 48 h), HQ (expires after 72 h).
    private static readonly ApprovalStage[] ThreeLevels =
    [
        new(ApprovalLevel.Store, "sh-001", 24, TimeoutRule.Escalate, true),
        new(ApprovalLevel.Region, "east", 48, TimeoutRule.Escalate, false),
        new(ApprovalLevel.Hq, "hq", 72, TimeoutRule.Expire, false),
    ];

    private readonly ManualClock _clock = new(Start);
    private readonly Recorder _recorder = new();
    private readonly InMemoryOrchestrationService _runtime;

    public ApprovalWorkflowTests()
    {
        var registry = new OrchestrationRegistry()
            .AddOrchestrator(ApprovalWorkflow.Name, () => new ApprovalWorkflow())
            .AddActivity(OpenApprovalStage.Name, () => new OpenDouble(_recorder))
            .AddActivity(CloseApproval.Name, () => new CloseDouble(_recorder));
        _runtime = new InMemoryOrchestrationService(registry, _clock);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Approve_AtEachLevel_UpToTheSettlingOne(int settling)
    {
        var stages = ThreeLevels.Select((s, i) => s with { Settles = i == settling }).ToArray();
        await StartAsync(stages);

        for (var i = 0; i <= settling; i++)
        {
            Assert.Equal(i, _recorder.Opened.Last().Stage);
            await DecideAsync(i, approve: true, $"manager-{i}");
        }

        var outcome = await OutcomeAsync();
        Assert.Equal(("approved", settling, $"manager-{settling}"), _recorder.Closed.Single());
        Assert.Equal("approved", outcome.Status);
        Assert.Equal(Enumerable.Range(0, settling + 1), _recorder.Opened.Select(o => o.Stage));
        Assert.All(_recorder.Opened, o => Assert.False(o.Escalated));
        Assert.Equal(Start + TimeSpan.FromHours(stages[0].TimeLimitHours), _recorder.Opened[0].DueAt);
    }

    [Fact]
    public async Task Reject_AtTheSecondLevel_EndsIt()
    {
        var stages = ThreeLevels.Select((s, i) => s with { Settles = i == 2 }).ToArray();
        await StartAsync(stages);

        await DecideAsync(0, approve: true, "store-manager");
        await DecideAsync(1, approve: false, "region-manager", "not justified");

        Assert.Equal(("rejected", 1, "region-manager"), _recorder.Closed.Single());
        Assert.Equal([0, 1], _recorder.Opened.Select(o => o.Stage));
        Assert.Equal("rejected", (await OutcomeAsync()).Status);
    }

    [Fact]
    public async Task Timeout_Escalates_AndTheLevelAboveSettles()
    {
        await StartAsync(ThreeLevels);

        _clock.Advance(TimeSpan.FromHours(23));
        await _runtime.RunUntilIdleAsync();
        Assert.Single(_recorder.Opened);

        _clock.Advance(TimeSpan.FromHours(1));
        await _runtime.RunUntilIdleAsync();
        var second = _recorder.Opened.Last();
        Assert.Equal((1, true), (second.Stage, second.Escalated));
        Assert.Equal(Start + TimeSpan.FromHours(24 + 48), second.DueAt);

        // The region's approval settles although the store level was the settling one: it is above it.
        await DecideAsync(1, approve: true, "region-manager");
        Assert.Equal(("approved", 1, "region-manager"), _recorder.Closed.Single());
    }

    [Fact]
    public async Task Timeout_AtEveryLevel_EscalatesToTheTopThenExpires()
    {
        await StartAsync(ThreeLevels);

        foreach (var hours in new[] { 24, 48, 72 })
        {
            _clock.Advance(TimeSpan.FromHours(hours));
            await _runtime.RunUntilIdleAsync();
        }

        Assert.Equal([0, 1, 2], _recorder.Opened.Select(o => o.Stage));
        Assert.Equal(("expired", 2, "system"), _recorder.Closed.Single());
        Assert.Equal("expired", (await OutcomeAsync()).Status);
    }

    [Fact]
    public async Task Timeout_WithExpire_EndsAtThatLevel()
    {
        await StartAsync([ThreeLevels[0] with { OnTimeout = TimeoutRule.Expire }, ThreeLevels[1], ThreeLevels[2]]);

        _clock.Advance(TimeSpan.FromHours(24));
        await _runtime.RunUntilIdleAsync();

        Assert.Single(_recorder.Opened);
        Assert.Equal(("expired", 0, "system"), _recorder.Closed.Single());
    }

    [Fact]
    public async Task Decision_ArrivingBeforeTheWait_IsTakenWhenTheStageWaits()
    {
        await _runtime.StartAsync(ApprovalWorkflow.Name, new ApprovalInput("ap1", [ThreeLevels[0], ThreeLevels[1]]), "approval-ap1");

        // The event is raised before the first step even ran (the stage has not opened, nothing waits yet).
        await _runtime.RaiseEventAsync("approval-ap1", ApprovalWorkflow.EventName(0), new DecisionEvent(true, "early", null), "ap1-0");
        await _runtime.RunUntilIdleAsync();

        Assert.Equal(("approved", 0, "early"), _recorder.Closed.Single());
    }

    [Fact]
    public async Task Decision_ForAStageThatTimedOut_IsNotTakenForTheNextLevel()
    {
        await StartAsync(ThreeLevels);
        _clock.Advance(TimeSpan.FromHours(24));
        await _runtime.RunUntilIdleAsync();

        await _runtime.RaiseEventAsync("approval-ap1", ApprovalWorkflow.EventName(0), new DecisionEvent(true, "late-store-manager", null), "ap1-0");
        await _runtime.RunUntilIdleAsync();

        Assert.Empty(_recorder.Closed);
        Assert.Equal(RuntimeStatus.Running, (await _runtime.GetAsync("approval-ap1"))!.Status);
        await DecideAsync(1, approve: true, "region-manager");
        Assert.Equal(("approved", 1, "region-manager"), _recorder.Closed.Single());
    }

    [Fact]
    public async Task Decision_RaisedTwice_CountsOnce()
    {
        await StartAsync(ThreeLevels.Select((s, i) => s with { Settles = i == 1 }).ToArray());

        await DecideAsync(0, approve: true, "store-manager");
        await DecideAsync(0, approve: true, "store-manager");

        // The duplicate (same event id) is dropped; stage 1 still waits.
        Assert.Equal([0, 1], _recorder.Opened.Select(o => o.Stage));
        Assert.Empty(_recorder.Closed);
    }

    private async Task StartAsync(ApprovalStage[] stages)
    {
        await _runtime.StartAsync(ApprovalWorkflow.Name, new ApprovalInput("ap1", stages), "approval-ap1");
        await _runtime.RunUntilIdleAsync();
    }

    private async Task DecideAsync(int stage, bool approve, string by, string? comment = null)
    {
        await _runtime.RaiseEventAsync("approval-ap1", ApprovalWorkflow.EventName(stage), new DecisionEvent(approve, by, comment), $"ap1-{stage}");
        await _runtime.RunUntilIdleAsync();
    }

    private async Task<ApprovalOutcome> OutcomeAsync()
    {
        var state = await _runtime.GetAsync("approval-ap1");
        Assert.Equal(RuntimeStatus.Completed, state!.Status);
        return JsonSerializer.Deserialize<ApprovalOutcome>(state.Output!, Web)!;
    }

    private sealed class Recorder
    {
        public List<StageOpening> Opened { get; } = [];

        public ConcurrentQueue<(string Outcome, int Stage, string By)> Closed { get; } = new();
    }

    private sealed class OpenDouble(Recorder recorder) : TaskActivity<StageOpening, bool>
    {
        public override Task<bool> RunAsync(TaskActivityContext context, StageOpening input)
        {
            recorder.Opened.Add(input);
            return Task.FromResult(true);
        }
    }

    private sealed class CloseDouble(Recorder recorder) : TaskActivity<ApprovalClosing, ApprovalOutcome>
    {
        public override Task<ApprovalOutcome> RunAsync(TaskActivityContext context, ApprovalClosing input)
        {
            recorder.Closed.Enqueue((input.Outcome, input.Stage, input.By));
            return Task.FromResult(new ApprovalOutcome(input.ApprovalId, input.Outcome, input.Stage, null));
        }
    }
}
