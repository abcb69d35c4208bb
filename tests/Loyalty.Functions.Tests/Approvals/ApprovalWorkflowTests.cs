using System.Collections.Concurrent;
using Loyalty.Domain.Approvals;
using Loyalty.Functions.Approvals;
using Loyalty.Functions.Tests.Support;
using Xunit;

namespace Loyalty.Functions.Tests.Approvals;

/// <summary>
/// Every branch of the approval orchestrator with a clock the test moves: the activities are recording doubles, so what
/// is checked is the workflow's own decisions (which stage opens when, and how it ends).
/// </summary>
public sealed class ApprovalWorkflowTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 2, 1, 0, 0, TimeSpan.Zero);

    // Store (settles up to 500, escalates after 24 h), region (escalates after 48 h), HQ (expires after 72 h).
    private static readonly ApprovalStage[] ThreeLevels =
    [
        new(ApprovalLevel.Store, "sh-001", 24, TimeoutRule.Escalate, true),
        new(ApprovalLevel.Region, "east", 48, TimeoutRule.Escalate, false),
        new(ApprovalLevel.Hq, "hq", 72, TimeoutRule.Expire, false),
    ];

    private readonly Recorder _recorder = new();
    private readonly FakeOrchestration _runtime;

    public ApprovalWorkflowTests()
    {
        _runtime = new FakeOrchestration(Start)
            .Activity<StageOpening, DecisionEvent?>(OpenApprovalStage.Name, input =>
            {
                _recorder.Opened.Add(input);
                return _recorder.Kept.Remove(input.Stage, out var kept) ? kept : null;
            })
            .Activity<ApprovalClosing, ApprovalOutcome>(CloseApproval.Name, input =>
            {
                _recorder.Closed.Enqueue((input.Outcome, input.Stage, input.By));
                return new ApprovalOutcome(input.ApprovalId, input.Outcome, input.Stage, null);
            });
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

        _runtime.Advance(TimeSpan.FromHours(23));
        Assert.Single(_recorder.Opened);

        _runtime.Advance(TimeSpan.FromHours(1));
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
            _runtime.Advance(TimeSpan.FromHours(hours));
        }

        Assert.Equal([0, 1, 2], _recorder.Opened.Select(o => o.Stage));
        Assert.Equal(("expired", 2, "system"), _recorder.Closed.Single());
        Assert.Equal("expired", (await OutcomeAsync()).Status);
    }

    [Fact]
    public async Task Timeout_WithExpire_EndsAtThatLevel()
    {
        await StartAsync([ThreeLevels[0] with { OnTimeout = TimeoutRule.Expire }, ThreeLevels[1], ThreeLevels[2]]);

        _runtime.Advance(TimeSpan.FromHours(24));

        Assert.Single(_recorder.Opened);
        Assert.Equal(("expired", 0, "system"), _recorder.Closed.Single());
    }

    [Fact]
    public async Task Decision_ArrivingBeforeTheWait_IsTakenWhenTheStageWaits()
    {
        // The event is raised before the orchestration starts (the stage has not opened, nothing waits yet).
        _runtime.Raise(ApprovalWorkflow.EventName(0), new DecisionEvent(true, "early", null));
        _runtime.Start<ApprovalInput, ApprovalOutcome>(ApprovalWorkflow.RunAsync, new ApprovalInput("ap1", [ThreeLevels[0], ThreeLevels[1]]), "approval-ap1");

        Assert.Equal(("approved", 0, "early"), _recorder.Closed.Single());
    }

    [Fact]
    public async Task Decision_RecordedBeforeTheStageOpened_IsTakenFromTheRecord_WithoutItsEvent()
    {
        // The decision's event went to an instance that did not exist yet and was dropped; the record kept it.
        _recorder.Kept[0] = new DecisionEvent(false, "quick-manager", "不批");
        await StartAsync(ThreeLevels);

        Assert.Equal(("rejected", 0, "quick-manager"), _recorder.Closed.Single());
        Assert.Equal("rejected", (await OutcomeAsync()).Status);
    }

    [Fact]
    public async Task Decision_ForAStageThatTimedOut_IsNotTakenForTheNextLevel()
    {
        await StartAsync(ThreeLevels);
        _runtime.Advance(TimeSpan.FromHours(24));

        _runtime.Raise(ApprovalWorkflow.EventName(0), new DecisionEvent(true, "late-store-manager", null));

        Assert.Empty(_recorder.Closed);
        Assert.True(_runtime.IsRunning);
        await DecideAsync(1, approve: true, "region-manager");
        Assert.Equal(("approved", 1, "region-manager"), _recorder.Closed.Single());
    }

    [Fact]
    public async Task Decision_RaisedTwice_CountsOnce()
    {
        await StartAsync(ThreeLevels.Select((s, i) => s with { Settles = i == 1 }).ToArray());

        await DecideAsync(0, approve: true, "store-manager");
        await DecideAsync(0, approve: true, "store-manager");

        // The repeat is for a stage that has passed: nothing waits for it, and stage 1 still waits.
        Assert.Equal([0, 1], _recorder.Opened.Select(o => o.Stage));
        Assert.Empty(_recorder.Closed);
    }

    private Task StartAsync(ApprovalStage[] stages)
    {
        _runtime.Start<ApprovalInput, ApprovalOutcome>(ApprovalWorkflow.RunAsync, new ApprovalInput("ap1", stages), "approval-ap1");
        return Task.CompletedTask;
    }

    private Task DecideAsync(int stage, bool approve, string by, string? comment = null)
    {
        _runtime.Raise(ApprovalWorkflow.EventName(stage), new DecisionEvent(approve, by, comment));
        return Task.CompletedTask;
    }

    private Task<ApprovalOutcome> OutcomeAsync() => _runtime.OutputAsync<ApprovalOutcome>();

    private sealed class Recorder
    {
        public List<StageOpening> Opened { get; } = [];

        public ConcurrentQueue<(string Outcome, int Stage, string By)> Closed { get; } = new();

        /// <summary>Decisions the approval record holds when a stage opens (taken before it opened), by stage.</summary>
        public Dictionary<int, DecisionEvent> Kept { get; } = [];
    }
}
