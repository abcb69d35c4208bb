using Loyalty.Domain.Approvals;
using Loyalty.Durable.Model;

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
internal sealed class ApprovalWorkflow : TaskOrchestrator<ApprovalInput, ApprovalOutcome>
{
    public const string Name = "Approval";
    private static readonly RetryPolicy Retry = new(5, TimeSpan.FromSeconds(2), 2, TimeSpan.FromMinutes(1));

    /// <summary>The instance id of an approval.</summary>
    public static string InstanceId(string approvalId) => "approval-" + approvalId;

    /// <summary>The event carrying stage <paramref name="stage"/>'s decision.</summary>
    public static string EventName(int stage) => "decision-" + stage.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public override async Task<ApprovalOutcome> RunAsync(TaskOrchestrationContext context, ApprovalInput input)
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
            var due = context.CurrentUtcDateTime + limit;
            await context.CallActivityAsync<bool>(OpenApprovalStage.Name, new StageOpening(input.ApprovalId, i, due, escalated), Retry);
            context.SetCustomStatus(new { stage = i, level = stage.Level, scopeId = stage.ScopeId, dueAt = due });

            var remaining = due - context.CurrentUtcDateTime;
            var (received, decision) = await context.WaitForExternalEvent<DecisionEvent>(EventName(i), remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero);
            if (received && decision is not null)
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

    private static Task<ApprovalOutcome> CloseAsync(TaskOrchestrationContext context, ApprovalClosing closing) =>
        context.CallActivityAsync<ApprovalOutcome>(CloseApproval.Name, closing, Retry);
}
