using System.Text.Json;
using Loyalty.Domain.Auth;
using Loyalty.Domain.Common;
using Loyalty.Functions.Durable;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;

namespace Loyalty.Functions.Campaigns;

/// <summary>Who a reactivation targets besides being dormant: any of the tiers, regions, stores and tags given (each list optional).</summary>
internal sealed record ReactivationSegment(IReadOnlyList<string>? Tiers = null, IReadOnlyList<string>? Regions = null, IReadOnlyList<string>? Stores = null, IReadOnlyList<string>? Tags = null);

/// <summary>The offer: bonus points, or a coupon of a template valid <paramref name="CouponValidDays"/> days from issue.</summary>
internal sealed record ReactivationOffer(long? Points = null, string? CouponTemplateId = null, int? CouponValidDays = null);

/// <summary>Input of <see cref="Reactivation"/>.</summary>
/// <param name="CampaignId">Names the campaign: each member is offered at most once per campaign id.</param>
/// <param name="NoPurchaseDays">Dormant = no purchase (or, never having bought, no enrolment) for this many days.</param>
/// <param name="Segment">Optional narrowing by tier, region, store and tag.</param>
/// <param name="Offer">Points or a coupon.</param>
/// <param name="WindowDays">Days after the offer in which a purchase counts as reactivated.</param>
/// <param name="ReminderAfterDays">Days after the offer to remind those who have not come back (optional, inside the window).</param>
/// <param name="Budget">Cost cap in fen (points valued at the points-offset rate, coupons at face value); null = none.</param>
/// <param name="DryRun">Count the targets and the cost, grant nothing.</param>
/// <param name="RequestedBy">Set by the management API: who started it (the budget approval's requester).</param>
/// <param name="RequesterRole">Set by the management API.</param>
/// <param name="Progress">Where an execution that continued as new left off (set by the orchestrator, never by a caller).</param>
internal sealed record ReactivationInput(
    string CampaignId,
    int NoPurchaseDays,
    ReactivationSegment? Segment,
    ReactivationOffer Offer,
    int WindowDays,
    int? ReminderAfterDays = null,
    long? Budget = null,
    bool DryRun = false,
    string? RequestedBy = null,
    Role? RequesterRole = null,
    ReactivationProgress? Progress = null)
{
    /// <summary>Checks the parameters; null when they are usable.</summary>
    public DomainError? Check()
    {
        if (string.IsNullOrWhiteSpace(CampaignId) || CampaignId.Length > 64 || !CampaignId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            return Invalid("campaignId", "campaignId is 1-64 letters, digits, '-' or '_'.");
        }

        if (NoPurchaseDays is < 1 or > 3650)
        {
            return Invalid("noPurchaseDays", "noPurchaseDays is 1-3650.");
        }

        if (Offer is null || (Offer.Points is null) == (Offer.CouponTemplateId is null))
        {
            return Invalid("offer", "The offer is either points or a couponTemplateId.");
        }

        if (Offer.Points is < 1 or > 1_000_000 || Offer.CouponValidDays is < 1 or > 366)
        {
            return Invalid("offer", "Offer 1-1000000 points, or a coupon valid 1-366 days.");
        }

        if (WindowDays is < 1 or > 180 || ReminderAfterDays is { } r && (r < 1 || r >= WindowDays))
        {
            return Invalid("windowDays", "windowDays is 1-180; reminderAfterDays, if given, falls inside the window.");
        }

        if (Budget is < 0)
        {
            return Invalid("budget", "budget is not negative.");
        }

        var lists = new[] { Segment?.Tiers, Segment?.Regions, Segment?.Stores, Segment?.Tags };
        return lists.Any(l => l is not null && (l.Count > 100 || l.Any(string.IsNullOrWhiteSpace)))
            ? Invalid("segment", "Segment lists hold up to 100 non-empty names.")
            : null;
    }

    private static DomainError Invalid(string field, string message) => DomainError.Invalid("campaign_invalid", field, message);
}

/// <summary>
/// Where a campaign stands when it continues as new: the phase (<c>selecting</c> or <c>offering</c>), the plan, the
/// counts so far, the page to go on from, and for offers the offer's time and the approval.
/// </summary>
internal sealed record ReactivationProgress(
    string Phase,
    ReactivationPlan Plan,
    int Scanned,
    int Targeted,
    long EstimatedCost,
    string? ApprovalId,
    DateTimeOffset? OfferAt,
    int Processed,
    int Offered,
    int Notified,
    int Refused,
    long Cost,
    string? Continuation);

/// <summary>What <see cref="PrepareReactivation"/> found: the dormancy cut-off day, the cost of one offer, or why it cannot run.</summary>
internal sealed record ReactivationPlan(string Cutoff, long UnitCost, string? Refusal);

/// <summary>Input of one <see cref="SelectReactivationTargets"/> call: a page of the member table.</summary>
internal sealed record TargetPage(string CampaignId, string Cutoff, ReactivationSegment? Segment, bool DryRun, string? Continuation);

/// <summary>What a selection page found.</summary>
internal sealed record TargetPageResult(int Scanned, int Matched, string? Continuation);

/// <summary>Input of <see cref="RequestBudgetApproval"/>.</summary>
internal sealed record BudgetRequest(string InstanceId, string CampaignId, long Budget, int Targeted, long EstimatedCost, string RequestedBy, Role RequesterRole);

/// <summary>Input of one <see cref="OfferReactivation"/> call: up to <paramref name="MaxGrants"/> targets from a continuation.</summary>
internal sealed record OfferPage(string CampaignId, ReactivationOffer Offer, DateTimeOffset OfferAt, int WindowDays, int MaxGrants, string? Continuation, string InstanceId);

/// <summary>What an offer page did.</summary>
internal sealed record OfferPageResult(int Processed, int Granted, int Notified, int Refused, string? Continuation);

/// <summary>Input of one follow-up call (<c>remind</c> or <c>measure</c>) over the offered targets.</summary>
internal sealed record FollowUpPage(string CampaignId, string Kind, DateTimeOffset OfferAt, int WindowDays, string? Continuation);

/// <summary>What a follow-up page did: members looked at, and how many were reminded or had come back.</summary>
internal sealed record FollowUpResult(int Processed, int Count, string? Continuation);

/// <summary>The campaign's result. The rate is reactivated / offered.</summary>
internal sealed record ReactivationResult(
    string CampaignId,
    string Status,
    int Targeted,
    int Offered,
    int Reactivated,
    double Rate,
    long Cost,
    int Notified,
    int Reminded,
    int Refused,
    bool BudgetReached,
    long EstimatedCost,
    string? ApprovalId);

/// <summary>
/// Dormant-member reactivation (唤醒沉睡会员). Selects the dormant members of the segment page by page into the
/// campaign's target list; a dry run stops there with the count and the estimated cost. A budget above the approval
/// policy waits for its approval (the approval's end arrives as an event). Then offers are granted and announced in
/// batches, each grant keyed by (campaign, member) so a crash, a retry or a second start grants nothing twice, until
/// the list or the budget runs out. After <c>reminderAfterDays</c> those who have not bought are reminded; at the end
/// of the window the offered members who bought since the offer are counted. Operations may cut a wait short with the
/// event <c>skip-wait</c>.
/// </summary>
internal static class Reactivation
{
    public const string Name = "Reactivation";
    public const string SkipWaitEvent = "skip-wait";
    public const int BatchSize = 200;

    /// <summary>
    /// Activity calls one execution makes in a paging loop before it continues as new with its progress: each call adds
    /// two events to the history that every later step replays, so a chain of 100,000 members (about 600 pages)
    /// replays short histories instead of one of thousands of events.
    /// </summary>
    public const int PagesPerExecution = 100;

    /// <summary>The default instance id of a campaign: starting the same campaign again starts nothing new while it runs.</summary>
    public static string InstanceId(string campaignId) => "reactivation-" + campaignId;

    [Function(Name)]
    public static Task<ReactivationResult> Run([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return RunAsync(context, context.GetInput<ReactivationInput>()!);
    }

    public static async Task<ReactivationResult> RunAsync(TaskOrchestrationContext context, ReactivationInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (input?.Check() is { } invalid || input is null)
        {
            throw new ArgumentException("Reactivation input: " + (input is null ? "missing" : input.Check()!.Message));
        }

        var progress = input.Progress;
        var plan = progress?.Plan ?? await context.CallActivityAsync<ReactivationPlan>(PrepareReactivation.Name, input, Activities.Retry);
        var empty = new ReactivationResult(input.CampaignId, "refused", 0, 0, 0, 0, 0, 0, 0, 0, false, 0, null);
        if (plan.Refusal is not null)
        {
            return empty with { Status = "refused: " + plan.Refusal };
        }

        // 1. Select the dormant members of the segment (unless an earlier execution got past it).
        int scanned = progress?.Scanned ?? 0, targeted = progress?.Targeted ?? 0;
        string? continuation = progress?.Phase == "selecting" ? progress.Continuation : null;
        if (progress is null or { Phase: "selecting" })
        {
            var calls = 0;
            do
            {
                if (calls++ == PagesPerExecution)
                {
                    context.ContinueAsNew(input with { Progress = new ReactivationProgress("selecting", plan, scanned, targeted, 0, null, null, 0, 0, 0, 0, 0, continuation) });
                    return empty with { Status = "continued" };
                }

                var page = await context.CallActivityAsync<TargetPageResult>(SelectReactivationTargets.Name,
                    new TargetPage(input.CampaignId, plan.Cutoff, input.Segment, input.DryRun, continuation), Activities.Retry);
                (scanned, targeted, continuation) = (scanned + page.Scanned, targeted + page.Matched, page.Continuation);
                context.SetCustomStatus(new { phase = "selecting", scanned, targeted });
            }
            while (continuation is not null);
        }

        var estimated = progress?.Phase == "offering" ? progress.EstimatedCost : targeted * plan.UnitCost;
        if (input.Budget is { } cap && progress?.Phase != "offering")
        {
            estimated = Math.Min(estimated, plan.UnitCost == 0 ? estimated : cap / plan.UnitCost * plan.UnitCost);
        }

        var result = empty with { Status = "dryRun", Targeted = targeted, EstimatedCost = estimated, ApprovalId = progress?.ApprovalId };
        if (input.DryRun)
        {
            return result;
        }

        // 2. A budget above the policy waits for its approval (once: an execution that continued has it).
        if (input.Budget is { } budget && progress?.Phase != "offering")
        {
            var approvalId = await context.CallActivityAsync<string?>(RequestBudgetApproval.Name,
                new BudgetRequest(context.InstanceId, input.CampaignId, budget, targeted, estimated, input.RequestedBy ?? "unknown", input.RequesterRole ?? Role.Ops), Activities.Retry);
            result = result with { ApprovalId = approvalId };
            if (approvalId is not null)
            {
                context.SetCustomStatus(new { phase = "awaitingApproval", approvalId, targeted, estimatedCost = estimated });
                var decision = await context.WaitForExternalEvent<Approvals.BudgetDecision>(Approvals.CampaignBudgetPayload.EventName);
                if (decision.Status != "applied")
                {
                    return result with { Status = "budget" + char.ToUpperInvariant(decision.Status[0]) + decision.Status[1..] };
                }
            }
        }

        // 3. Offer, batch by batch, until the list or the budget runs out.
        var resumed = progress is { Phase: "offering" };
        var offerAt = resumed ? progress!.OfferAt!.Value : new DateTimeOffset(context.CurrentUtcDateTime, TimeSpan.Zero);
        int processed = resumed ? progress!.Processed : 0, offered = resumed ? progress!.Offered : 0, notified = resumed ? progress!.Notified : 0, refused = resumed ? progress!.Refused : 0;
        long cost = resumed ? progress!.Cost : 0;
        var budgetReached = false;
        continuation = resumed ? progress!.Continuation : null;
        var offerCalls = 0;
        do
        {
            if (offerCalls++ == PagesPerExecution)
            {
                context.ContinueAsNew(input with
                {
                    Progress = new ReactivationProgress("offering", plan, scanned, targeted, estimated, result.ApprovalId, offerAt, processed, offered, notified, refused, cost, continuation),
                });
                return empty with { Status = "continued" };
            }

            var room = input.Budget is { } b && plan.UnitCost > 0 ? (b - cost) / plan.UnitCost : BatchSize;
            if (room <= 0)
            {
                budgetReached = true;
                break;
            }

            var page = await context.CallActivityAsync<OfferPageResult>(OfferReactivation.Name,
                new OfferPage(input.CampaignId, input.Offer, offerAt, input.WindowDays, (int)Math.Min(room, BatchSize), continuation, context.InstanceId), Activities.Retry);
            processed += page.Processed;
            offered += page.Granted;
            notified += page.Notified;
            refused += page.Refused;
            cost += page.Granted * plan.UnitCost;
            continuation = page.Continuation;
            context.SetCustomStatus(new { phase = "offering", targeted, processed, offered, cost, budget = input.Budget });
        }
        while (continuation is not null);

        // 4. Remind those who have not come back, then measure at the end of the window.
        var reminded = 0;
        if (input.ReminderAfterDays is { } remindAfter)
        {
            context.SetCustomStatus(new { phase = "waitingToRemind", targeted, offered, cost, remindAt = offerAt.AddDays(remindAfter) });
            await WaitUntilAsync(context, offerAt.AddDays(remindAfter));
            reminded = await FollowUpAsync(context, input, offerAt, "remind");
        }

        context.SetCustomStatus(new { phase = "waitingForWindow", targeted, offered, cost, reminded, windowEnds = offerAt.AddDays(input.WindowDays) });
        await WaitUntilAsync(context, offerAt.AddDays(input.WindowDays));
        var reactivated = await FollowUpAsync(context, input, offerAt, "measure");
        var rate = offered == 0 ? 0 : Math.Round((double)reactivated / offered, 4);
        var completed = result with
        {
            Status = "completed",
            Offered = offered,
            Reactivated = reactivated,
            Rate = rate,
            Cost = cost,
            Notified = notified,
            Reminded = reminded,
            Refused = refused,
            BudgetReached = budgetReached,
        };
        await context.CallActivityAsync<bool>(PublishCampaignCompleted.Name, completed, Activities.Retry);
        return completed;
    }

    // A durable timer that operations may cut short with the skip-wait event.
    private static async Task WaitUntilAsync(TaskOrchestrationContext context, DateTimeOffset at)
    {
        var left = at - new DateTimeOffset(context.CurrentUtcDateTime, TimeSpan.Zero);
        if (left <= TimeSpan.Zero)
        {
            return;
        }

        try
        {
            await context.WaitForExternalEvent<JsonElement?>(SkipWaitEvent, left);
        }
        catch (TaskCanceledException)
        {
            // The timer won: the wait ran its course.
        }
    }

    private static async Task<int> FollowUpAsync(TaskOrchestrationContext context, ReactivationInput input, DateTimeOffset offerAt, string kind)
    {
        var count = 0;
        string? continuation = null;
        do
        {
            var page = await context.CallActivityAsync<FollowUpResult>(FollowUpReactivation.Name, new FollowUpPage(input.CampaignId, kind, offerAt, input.WindowDays, continuation), Activities.Retry);
            count += page.Count;
            continuation = page.Continuation;
        }
        while (continuation is not null);

        return count;
    }
}
