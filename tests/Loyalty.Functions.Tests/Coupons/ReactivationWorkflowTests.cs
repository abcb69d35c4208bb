using Loyalty.Functions.Approvals;
using Loyalty.Functions.Campaigns;
using Loyalty.Functions.Tests.Support;
using Xunit;

namespace Loyalty.Functions.Tests.Coupons;

/// <summary>
/// The reactivation orchestrator's branches with a clock the test moves and activity doubles: the reminder and the
/// measurement happen exactly when their days come, the budget stops granting, a rejected budget grants nothing.
/// </summary>
public sealed class ReactivationWorkflowTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 2, 1, 0, 0, TimeSpan.Zero);
    private readonly Doubles _doubles = new();
    private readonly FakeOrchestration _runtime;

    public ReactivationWorkflowTests()
    {
        _runtime = new FakeOrchestration(Start)
            .Activity<ReactivationInput, ReactivationPlan>(PrepareReactivation.Name, _ => new ReactivationPlan("2026-08-04", 100, null))
            .Activity<TargetPage, TargetPageResult>(SelectReactivationTargets.Name, Select)
            .Activity<BudgetRequest, string?>(RequestBudgetApproval.Name, b => b.Budget > 100_000 ? "ap-budget" : null)
            .Activity<OfferPage, OfferPageResult>(OfferReactivation.Name, Offer)
            .Activity<FollowUpPage, FollowUpResult>(FollowUpReactivation.Name, f =>
            {
                _doubles.Calls.Add(FollowUpReactivation.Name + ":" + f.Kind);
                return new FollowUpResult(_doubles.Offered, f.Kind == "remind" ? 5 : 7, null);
            })
            .Activity<ReactivationResult, bool>(PublishCampaignCompleted.Name, r =>
            {
                _doubles.Calls.Add($"{PublishCampaignCompleted.Name}:{r.Status}:{r.Offered}:{r.Reactivated}");
                return true;
            });
    }

    [Fact]
    public async Task RemindsOnDayR_MeasuresOnDayW_AndReportsTheNumbers()
    {
        _doubles.Targets = 30;
        await StartAsync(new ReactivationInput("c1", 90, null, new ReactivationOffer(Points: 100), 14, 7));

        Assert.Equal(30, _doubles.Offered);
        _runtime.Advance(TimeSpan.FromDays(7) - TimeSpan.FromMinutes(1));
        Assert.DoesNotContain("FollowUpReactivation:remind", _doubles.Calls);

        _runtime.Advance(TimeSpan.FromMinutes(1));
        Assert.Contains("FollowUpReactivation:remind", _doubles.Calls);
        Assert.DoesNotContain("FollowUpReactivation:measure", _doubles.Calls);

        _runtime.Advance(TimeSpan.FromDays(7));
        var result = await ResultAsync();

        Assert.Equal(("completed", 30, 30, 7, 5, 3_000L), (result.Status, result.Targeted, result.Offered, result.Reactivated, result.Reminded, result.Cost));
        Assert.Equal(0.2333, result.Rate);
        Assert.False(result.BudgetReached);

        // campaign.completed goes out once, after the measurement, with the final numbers.
        Assert.Equal(["FollowUpReactivation:remind", "FollowUpReactivation:measure", "PublishCampaignCompleted:completed:30:7"], _doubles.Calls.Where(c => c.StartsWith("FollowUp", StringComparison.Ordinal) || c.StartsWith("Publish", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task DryRun_CountsAndEstimates_GrantsNothing()
    {
        _doubles.Targets = 250;
        await StartAsync(new ReactivationInput("c1", 90, null, new ReactivationOffer(Points: 100), 14, DryRun: true, Budget: 10_000));

        var result = await ResultAsync();
        Assert.Equal(("dryRun", 250, 0, 10_000L), (result.Status, result.Targeted, result.Offered, result.EstimatedCost));
        Assert.DoesNotContain(_runtime.Calls, c => c.StartsWith(OfferReactivation.Name, StringComparison.Ordinal) || c.StartsWith(RequestBudgetApproval.Name, StringComparison.Ordinal));
        Assert.DoesNotContain(PublishCampaignCompleted.Name, _runtime.Calls);
    }

    [Fact]
    public async Task Budget_StopsGrantingWhenReached()
    {
        _doubles.Targets = 500;
        await StartAsync(new ReactivationInput("c1", 90, null, new ReactivationOffer(Points: 100), 3, Budget: 25_050));
        _runtime.Advance(TimeSpan.FromDays(3));

        var result = await ResultAsync();
        Assert.Equal((250, 25_000L, true), (result.Offered, result.Cost, result.BudgetReached));
        Assert.Equal(2, _runtime.Calls.Count(c => c.StartsWith(OfferReactivation.Name, StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("rejected", "budgetRejected")]
    [InlineData("expired", "budgetExpired")]
    public async Task BudgetAboveThePolicy_NotApproved_GrantsNothing(string decision, string status)
    {
        _doubles.Targets = 10;
        await StartAsync(new ReactivationInput("c1", 90, null, new ReactivationOffer(Points: 100), 3, Budget: 500_000));
        Assert.True(_runtime.IsRunning);
        Assert.Contains("awaitingApproval", _runtime.CustomStatus, StringComparison.Ordinal);

        _runtime.Raise(CampaignBudgetPayload.EventName, new BudgetDecision("ap-budget", decision));

        var result = await ResultAsync();
        Assert.Equal((status, 0, "ap-budget"), (result.Status, result.Offered, result.ApprovalId));
        Assert.DoesNotContain(_runtime.Calls, c => c.StartsWith(OfferReactivation.Name, StringComparison.Ordinal));
    }

    [Fact]
    public async Task BudgetApproved_ThenOffers_AndSkipWaitEndsTheWindowEarly()
    {
        _doubles.Targets = 10;
        await StartAsync(new ReactivationInput("c1", 90, null, new ReactivationOffer(Points: 100), 30, Budget: 500_000));
        _runtime.Raise(CampaignBudgetPayload.EventName, new BudgetDecision("ap-budget", "applied"));
        Assert.Equal(10, _doubles.Offered);

        _runtime.Raise(Reactivation.SkipWaitEvent, null);

        Assert.Equal(("completed", 10, 7), ((await ResultAsync()).Status, (await ResultAsync()).Offered, (await ResultAsync()).Reactivated));
        Assert.Equal(Start, _runtime.Now);
    }

    [Fact]
    public async Task LongCampaign_ContinuesAsNewEveryHundredPages_AndLosesNoCount()
    {
        // 250 selection pages and 150 offer pages: two continues while selecting, one while offering.
        _doubles.SelectPages = 250;
        _doubles.Targets = 150 * Reactivation.BatchSize;
        await StartAsync(new ReactivationInput("c1", 90, null, new ReactivationOffer(Points: 100), 3, Budget: 500_000_000));
        Assert.True(_runtime.IsRunning);
        Assert.Contains("awaitingApproval", _runtime.CustomStatus, StringComparison.Ordinal);
        _runtime.Raise(CampaignBudgetPayload.EventName, new BudgetDecision("ap-budget", "applied"));
        _runtime.Advance(TimeSpan.FromDays(3));

        var result = await ResultAsync();
        Assert.Equal(("completed", 30_000, 30_000, 3_000_000L, "ap-budget"), (result.Status, result.Targeted, result.Offered, result.Cost, result.ApprovalId));
        Assert.Equal(1 + 2 + 1, _runtime.Executions);
        Assert.Equal(250, _runtime.Calls.Count(c => c == SelectReactivationTargets.Name));
        Assert.Equal(150, _runtime.Calls.Count(c => c == OfferReactivation.Name));
        Assert.Equal(1, _runtime.Calls.Count(c => c == PrepareReactivation.Name));
        Assert.Equal(1, _runtime.Calls.Count(c => c == RequestBudgetApproval.Name));
    }

    // Pages "page-1".."page-n" share the targets out, the last one taking the remainder.
    private TargetPageResult Select(TargetPage page)
    {
        var index = page.Continuation is null ? 0 : int.Parse(page.Continuation["page-".Length..], System.Globalization.CultureInfo.InvariantCulture);
        var share = _doubles.Targets / _doubles.SelectPages;
        var last = index == _doubles.SelectPages - 1;
        return new TargetPageResult(1000, last ? _doubles.Targets - (share * index) : share, last ? null : $"page-{index + 1}");
    }

    private OfferPageResult Offer(OfferPage page)
    {
        var start = page.Continuation is null ? 0 : int.Parse(page.Continuation, System.Globalization.CultureInfo.InvariantCulture);
        var take = Math.Min(page.MaxGrants, _doubles.Targets - start);
        _doubles.Offered += take;
        var next = start + take;
        return new OfferPageResult(take, take, take, 0, next < _doubles.Targets ? next.ToString(System.Globalization.CultureInfo.InvariantCulture) : null);
    }

    private Task StartAsync(ReactivationInput input)
    {
        _runtime.Start<ReactivationInput, ReactivationResult>(Reactivation.RunAsync, input, "r1");
        return Task.CompletedTask;
    }

    private Task<ReactivationResult> ResultAsync() => _runtime.OutputAsync<ReactivationResult>();

    private sealed class Doubles
    {
        public int Targets { get; set; }

        public int SelectPages { get; set; } = 2;

        public int Offered { get; set; }

        public List<string> Calls { get; } = [];
    }
}
