using Loyalty.Domain.Approvals;
using Loyalty.Functions.Durable;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;

namespace Loyalty.Functions.Approvals;

/// <summary>Input of <see cref="ApprovalWorkflow"/>: the approval and its route.</summary>
internal sealed record ApprovalInput(string ApprovalId, IReadOnlyList<ApprovalStage> Stages);

/// <summary>A level's decision, raised to the instance as the event <c>decision-{stage}</c>.</summary>
internal sealed record DecisionEvent(bool Approve, string By, string? Comment);

/// <summary>Input of <see cref="OpenApprovalStage"/>: the stage now waiting, until when, and how it got there.</summary>
internal sealed record StageOpening(string ApprovalId, int Stage, DateTimeOffset DueAt, bool Escalated);

/// <summary>Input of <see cref="CloseApproval"/>: how the request ended (approved, rejected or expired) and at which stage.</summary>
internal sealed record ApprovalClosing(string ApprovalId, int Stage, string Outcome, string By, string? Comment);

/// <summary>The workflow's result: the final status (applied, failed, rejected, expired) and what applying it did.</summary>
internal sealed record ApprovalOutcome(string ApprovalId, string Status, int Stage, string? Result);

/// <summary>
/// One approval request going up the chain (审批流). Each stage opens (the record shows it waiting and its approvers
/// are notified), then waits for its decision event, <c>decision-{stage}</c>, up to the level's time limit. A rejection
/// ends it; an approval either settles it (when the level's limit covers the amount, or a level above it after an
/// escalation) or sends it up to the next level; running out of time escalates or expires it per the policy. The end
/// is one activity that applies an approved request idempotently (keyed by the approval id), records the outcome and
/// notifies the requester. Events are named per stage, so a decision that arrives after its stage timed out is never
/// taken for the next level's.
/// </summary>
internal static class ApprovalWorkflow
{
    public const string Name = "Approval";

    /// <summary>The instance id of an approval.</summary>
    public static string InstanceId(string approvalId) => "approval-" + approvalId;

    /// <summary>The event carrying stage <paramref name="stage"/>'s decision.</summary>
    public static string EventName(int stage) => "decision-" + stage.ToString(System.Globalization.CultureInfo.InvariantCulture);

    [Function(Name)]
    public static Task<ApprovalOutcome> Run([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return RunAsync(context, context.GetInput<ApprovalInput>()!);
    }

    public static async Task<ApprovalOutcome> RunAsync(TaskOrchestrationContext context, ApprovalInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (input?.Stages is not { Count: > 0 } stages || stages.All(s => !s.Settles))
        {
            throw new ArgumentException("An approval needs a route with a settling stage.");
        }

        var settlesFrom = stages.ToList().FindIndex(s => s.Settles);
        var escalated = false;
        for (var i = 0; i < stages.Count; i++)
        {
            var stage = stages[i];
            var limit = TimeSpan.FromHours(stage.TimeLimitHours);
            var due = new DateTimeOffset(context.CurrentUtcDateTime, TimeSpan.Zero) + limit;
            // A decision taken before the stage opened comes back from the opening (its event may never arrive).
            var kept = await context.CallActivityAsync<DecisionEvent?>(OpenApprovalStage.Name, new StageOpening(input.ApprovalId, i, due, escalated), Activities.Retry);
            context.SetCustomStatus(new { stage = i, level = stage.Level, scopeId = stage.ScopeId, dueAt = due });

            var decision = kept ?? await DecisionAsync(context, EventName(i), due);
            if (decision is not null)
            {
                if (!decision.Approve)
                {
                    return await CloseAsync(context, new ApprovalClosing(input.ApprovalId, i, "rejected", decision.By, decision.Comment));
                }

                if (i >= settlesFrom)
                {
                    return await CloseAsync(context, new ApprovalClosing(input.ApprovalId, i, "approved", decision.By, decision.Comment));
                }

                escalated = false;
                continue;
            }

            if (stage.OnTimeout == TimeoutRule.Escalate && i + 1 < stages.Count)
            {
                escalated = true;
                continue;
            }

            return await CloseAsync(context, new ApprovalClosing(input.ApprovalId, i, "expired", "system", $"No decision from the {stage.Level} level in time."));
        }

        // The last stage always settles (settlesFrom is at most the last index), so the loop returns before it ends.
        throw new InvalidOperationException("The route ran out without settling.");
    }

    // The stage's decision, or null when its time ran out first.
    private static async Task<DecisionEvent?> DecisionAsync(TaskOrchestrationContext context, string eventName, DateTimeOffset due)
    {
        var remaining = due - new DateTimeOffset(context.CurrentUtcDateTime, TimeSpan.Zero);
        try
        {
            return await context.WaitForExternalEvent<DecisionEvent>(eventName, remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero);
        }
        catch (TaskCanceledException)
        {
            return null;
        }
    }

    private static Task<ApprovalOutcome> CloseAsync(TaskOrchestrationContext context, ApprovalClosing closing) =>
        context.CallActivityAsync<ApprovalOutcome>(CloseApproval.Name, closing, Activities.Retry);
}
