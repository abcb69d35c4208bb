using System.Text.Json;
using Loyalty.Durable.InMemory;
using Loyalty.Durable.Model;
using Loyalty.Functions.Approvals;
using Loyalty.Functions.Campaigns;
using Xunit;

namespace Loyalty.Functions.Tests.Coupons;

/// <summary>
/// The reactivation workflow's branches on the in-memory backend with a controlled clock and activity doubles: the
/// reminder and the measurement happen exactly when their days come, the budget stops granting, a rejected budget
/// grants nothing.
/// </summary>
public sealed class ReactivationWorkflowTests
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);
    private static readonly DateTimeOffset Start = new(2026, 11, 2, 1, 0, 0, TimeSpan.Zero);
    private readonly ManualClock _clock = new(Start);
    private readonly Doubles _doubles = new();
    private readonly InMemoryOrchestrationService _runtime;

    public ReactivationWorkflowTests()
    {
        var registry = new OrchestrationRegistry()
            .AddOrchestrator(Reactivation.Name, () => new Reactivation())
            .AddActivity(PrepareReactivation.Name, () => new Fake<ReactivationInput, ReactivationPlan>(_ => new ReactivationPlan("2026-08-04", 100, null), _doubles))
            .AddActivity(SelectReactivationTargets.Name, () => new Fake<TargetPage, TargetPageResult>(p => p.Continuation is null
                ? new TargetPageResult(1000, _doubles.Targets / 2, "page-2")
                : new TargetPageResult(400, _doubles.Targets - (_doubles.Targets / 2), null), _doubles))
            .AddActivity(RequestBudgetApproval.Name, () => new Fake<BudgetRequest, string?>(b => b.Budget > 100_000 ? "ap-budget" : null, _doubles))
            .AddActivity(OfferReactivation.Name, () => new Fake<OfferPage, OfferPageResult>(Offer, _doubles))
            .AddActivity(FollowUpReactivation.Name, () => new Fake<FollowUpPage, FollowUpResult>(f => new FollowUpResult(_doubles.Offered, f.Kind == "remind" ? 5 : 7, null), _doubles));
        _runtime = new InMemoryOrchestrationService(registry, _clock);
    }

    [Fact]
    public async Task RemindsOnDayR_MeasuresOnDayW_AndReportsTheNumbers()
    {
        _doubles.Targets = 30;
        await StartAsync(new ReactivationInput("c1", 90, null, new ReactivationOffer(Points: 100), 14, 7));

        Assert.Equal(30, _doubles.Offered);
        _clock.Advance(TimeSpan.FromDays(7) - TimeSpan.FromMinutes(1));
        await _runtime.RunUntilIdleAsync();
        Assert.DoesNotContain("FollowUpReactivation:remind", _doubles.Calls);

        _clock.Advance(TimeSpan.FromMinutes(1));
        await _runtime.RunUntilIdleAsync();
        Assert.Contains("FollowUpReactivation:remind", _doubles.Calls);
        Assert.DoesNotContain("FollowUpReactivation:measure", _doubles.Calls);

        _clock.Advance(TimeSpan.FromDays(7));
        await _runtime.RunUntilIdleAsync();
        var result = await ResultAsync();

        Assert.Equal(("completed", 30, 30, 7, 5, 3_000L), (result.Status, result.Targeted, result.Offered, result.Reactivated, result.Reminded, result.Cost));
        Assert.Equal(0.2333, result.Rate);
        Assert.False(result.BudgetReached);
    }

    [Fact]
    public async Task DryRun_CountsAndEstimates_GrantsNothing()
    {
        _doubles.Targets = 250;
        await StartAsync(new ReactivationInput("c1", 90, null, new ReactivationOffer(Points: 100), 14, DryRun: true, Budget: 10_000));

        var result = await ResultAsync();
        Assert.Equal(("dryRun", 250, 0, 10_000L), (result.Status, result.Targeted, result.Offered, result.EstimatedCost));
        Assert.DoesNotContain(_doubles.Calls, c => c.StartsWith(OfferReactivation.Name, StringComparison.Ordinal) || c.StartsWith(RequestBudgetApproval.Name, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Budget_StopsGrantingWhenReached()
    {
        _doubles.Targets = 500;
        await StartAsync(new ReactivationInput("c1", 90, null, new ReactivationOffer(Points: 100), 3, Budget: 25_050));
        _clock.Advance(TimeSpan.FromDays(3));
        await _runtime.RunUntilIdleAsync();

        var result = await ResultAsync();
        Assert.Equal((250, 25_000L, true), (result.Offered, result.Cost, result.BudgetReached));
        Assert.Equal(2, _doubles.Calls.Count(c => c.StartsWith(OfferReactivation.Name, StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("rejected", "budgetRejected")]
    [InlineData("expired", "budgetExpired")]
    public async Task BudgetAboveThePolicy_NotApproved_GrantsNothing(string decision, string status)
    {
        _doubles.Targets = 10;
        await StartAsync(new ReactivationInput("c1", 90, null, new ReactivationOffer(Points: 100), 3, Budget: 500_000));
        Assert.Equal(RuntimeStatus.Running, (await _runtime.GetAsync("r1"))!.Status);
        Assert.Contains("awaitingApproval", (await _runtime.GetAsync("r1"))!.CustomStatus, StringComparison.Ordinal);

        await _runtime.RaiseEventAsync("r1", CampaignBudgetPayload.EventName, new BudgetDecision("ap-budget", decision), "ap-budget");
        await _runtime.RunUntilIdleAsync();

        var result = await ResultAsync();
        Assert.Equal((status, 0, "ap-budget"), (result.Status, result.Offered, result.ApprovalId));
        Assert.DoesNotContain(_doubles.Calls, c => c.StartsWith(OfferReactivation.Name, StringComparison.Ordinal));
    }

    [Fact]
    public async Task BudgetApproved_ThenOffers_AndSkipWaitEndsTheWindowEarly()
    {
        _doubles.Targets = 10;
        await StartAsync(new ReactivationInput("c1", 90, null, new ReactivationOffer(Points: 100), 30, Budget: 500_000));
        await _runtime.RaiseEventAsync("r1", CampaignBudgetPayload.EventName, new BudgetDecision("ap-budget", "applied"), "ap-budget");
        await _runtime.RunUntilIdleAsync();
        Assert.Equal(10, _doubles.Offered);

        await _runtime.RaiseEventAsync("r1", Reactivation.SkipWaitEvent, null);
        await _runtime.RunUntilIdleAsync();

        Assert.Equal(("completed", 10, 7), ((await ResultAsync()).Status, (await ResultAsync()).Offered, (await ResultAsync()).Reactivated));
        Assert.Equal(Start, _clock.GetUtcNow());
    }

    private OfferPageResult Offer(OfferPage page)
    {
        var start = page.Continuation is null ? 0 : int.Parse(page.Continuation, System.Globalization.CultureInfo.InvariantCulture);
        var take = Math.Min(page.MaxGrants, _doubles.Targets - start);
        _doubles.Offered += take;
        var next = start + take;
        return new OfferPageResult(take, take, take, 0, next < _doubles.Targets ? next.ToString(System.Globalization.CultureInfo.InvariantCulture) : null);
    }

    private async Task StartAsync(ReactivationInput input)
    {
        await _runtime.StartAsync(Reactivation.Name, input, "r1");
        await _runtime.RunUntilIdleAsync();
    }

    private async Task<ReactivationResult> ResultAsync()
    {
        var state = await _runtime.GetAsync("r1");
        Assert.Equal(RuntimeStatus.Completed, state!.Status);
        return JsonSerializer.Deserialize<ReactivationResult>(state.Output!, Web)!;
    }

    private sealed class Doubles
    {
        public int Targets { get; set; }

        public int Offered { get; set; }

        public List<string> Calls { get; } = [];
    }

    private sealed class Fake<TIn, TOut>(Func<TIn, TOut> run, Doubles doubles) : TaskActivity<TIn, TOut>
    {
        public override Task<TOut> RunAsync(TaskActivityContext context, TIn input)
        {
            doubles.Calls.Add(context.Name + (input is FollowUpPage f ? ":" + f.Kind : string.Empty));
            return Task.FromResult(run(input));
        }
    }
}
