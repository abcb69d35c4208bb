using System.Globalization;
using System.Text.Json;
using Loyalty.Domain.Approvals;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Loyalty.Functions.Durable;
using Microsoft.DurableTask.Client;
using Loyalty.Functions.Notifications;
using Loyalty.Storage.Approvals;
using Loyalty.Storage.Config;
using Loyalty.Storage.Ledger;

namespace Loyalty.Functions.Approvals;

/// <summary>Applies one kind of approved action, exactly once per approval (keyed by the approval id).</summary>
internal interface IApprovedAction
{
    /// <summary>The action handled.</summary>
    ApprovalAction Action { get; }

    /// <summary>Applies the approved request; a refusal (e.g. the balance has gone since) fails the approval.</summary>
    Task<MemberOutcome> ApplyAsync(ApprovalRecord approval, CancellationToken cancellationToken);
}

/// <summary>Who receives staff notifications about approvals.</summary>
internal static class ApprovalRecipients
{
    /// <summary>The managers of an org node (the notification's partition).</summary>
    public static string Scope(string scopeId) => "scope-" + scopeId;

    /// <summary>One principal.</summary>
    public static string Principal(string principalId) => "principal-" + principalId;

    /// <summary>The idempotency context under which an approval is applied.</summary>
    public static IdempotencyContext Idempotency(ApprovalRecord approval)
    {
        ArgumentNullException.ThrowIfNull(approval);
        return new IdempotencyContext("approval", approval.Id, approval.Fingerprint);
    }
}

/// <summary>
/// Activity: a stage starts waiting; the record shows it (with its due time) and its approvers are notified. Returns
/// the decision the stage already has, if one was taken before the stage opened: its event may have been raised before
/// the instance existed, and the engine drops events for an instance it does not know yet.
/// </summary>
internal sealed class OpenApprovalStage(ApprovalStore approvals, NotificationOutbox outbox, TimeProvider time)
{
    public const string Name = "OpenApprovalStage";

    [Function(Name)]
    public async Task<DecisionEvent?> RunAsync([ActivityTrigger] StageOpening input)
    {
        ArgumentNullException.ThrowIfNull(input);
        for (var attempt = 0; ; attempt++)
        {
            var record = await approvals.GetAsync(input.ApprovalId, CancellationToken.None) ?? throw new InvalidOperationException($"No approval {input.ApprovalId}.");
            if (!record.IsPending)
            {
                return null;
            }

            var stage = record.Stages[input.Stage];
            var kept = record.Decision is { } taken && taken.Stage == input.Stage ? new DecisionEvent(taken.Approve, taken.By, taken.Comment) : null;
            if (record.StageIndex != input.Stage || record.DueAt != input.DueAt)
            {
                var steps = record.Steps.ToList();
                if (input.Escalated)
                {
                    steps.Add(new ApprovalStep(time.GetUtcNow(), "escalated", record.Stage.Level, "system", $"No decision in time; passed up to the {stage.Level} level."));
                }

                // A decision this stage already received (it can arrive before the stage opens) is kept: dropping it
                // would let a second decider in, while the first decision's event is already on its way.
                var decision = record.Decision?.Stage == input.Stage ? record.Decision : null;
                var next = record with { StageIndex = input.Stage, DueAt = input.DueAt, Decision = decision, Steps = steps };
                if (!await approvals.ReplaceAsync(record, next, CancellationToken.None))
                {
                    if (attempt < 5)
                    {
                        continue;
                    }

                    throw new InvalidOperationException($"Approval {input.ApprovalId} kept changing.");
                }
            }

            var text = $"审批待处理：{Describe(record)}，请在 {input.DueAt.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC 前处理（{record.Id}）。";
            await outbox.QueueAsync(ApprovalRecipients.Scope(stage.ScopeId), $"{record.Id}-{input.Stage}", "approval_needed", text, marketing: false, CancellationToken.None);
            return kept;
        }
    }

    /// <summary>A short description of a request for messages.</summary>
    public static string Describe(ApprovalRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return record.Action switch
        {
            ApprovalAction.PointsAdjustment => $"积分调整 {record.Amount} 分（会员 {record.Subject}）",
            ApprovalAction.StoredValueRefund => $"储值退款 {record.Amount / 100m:0.00} 元（会员 {record.Subject}）",
            ApprovalAction.CardUnfreeze => $"解冻会员卡 {record.Subject}",
            ApprovalAction.CampaignBudget => $"活动预算 {record.Amount / 100m:0.00} 元（{record.Subject}）",
            _ => record.Action.ToString(),
        };
    }
}

/// <summary>
/// Activity: the end of an approval. An approved request is applied (idempotently, keyed by the approval id), then the
/// record gets its final status (applied, failed, rejected or expired) and the requester is told. Running it again
/// finds the request applied and the notification sent, and changes nothing.
/// </summary>
internal sealed class CloseApproval(ApprovalStore approvals, IEnumerable<IApprovedAction> actions, NotificationOutbox outbox, Events.SystemEvents events, TimeProvider time)
{
    public const string Name = "CloseApproval";

    [Function(Name)]
    public async Task<ApprovalOutcome> RunAsync([ActivityTrigger] ApprovalClosing input, [DurableClient] DurableTaskClient durable)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(durable);
        for (var attempt = 0; ; attempt++)
        {
            var record = await approvals.GetAsync(input.ApprovalId, CancellationToken.None) ?? throw new InvalidOperationException($"No approval {input.ApprovalId}.");
            if (!record.IsPending)
            {
                await NotifyAsync(record, durable);
                await PublishAsync(record);
                return new ApprovalOutcome(record.Id, record.Status, record.StageIndex, record.Result);
            }

            var now = time.GetUtcNow();
            var steps = record.Steps.ToList();
            string status;
            string? result = null;
            if (input.Outcome == "approved")
            {
                var handler = actions.FirstOrDefault(a => a.Action == record.Action) ?? throw new InvalidOperationException($"Nothing applies {record.Action}.");
                var applied = await handler.ApplyAsync(record, CancellationToken.None);
                (status, result) = applied switch
                {
                    Completed done => ("applied", done.Body),
                    Refused refused when refused.Error.Code is "contention" or "idempotency_in_flight" => throw new InvalidOperationException(refused.Error.Message),
                    Refused refused => ("failed", JsonSerializer.Serialize(new { code = refused.Error.Code, detail = refused.Error.Message }, ConfigJson.Options)),
                    _ => throw new InvalidOperationException($"Unexpected outcome {applied}."),
                };
                steps.Add(new ApprovalStep(now, status, null, "system", (applied as Refused)?.Error.Code));
            }
            else
            {
                status = input.Outcome;
                if (status == "expired")
                {
                    steps.Add(new ApprovalStep(now, "expired", record.Stages[input.Stage].Level, input.By, input.Comment));
                }
            }

            var final = record with { Status = status, StageIndex = input.Stage, Result = result, Decision = null, Steps = steps };
            if (!await approvals.ReplaceAsync(record, final, CancellationToken.None))
            {
                if (attempt < 5)
                {
                    continue;
                }

                throw new InvalidOperationException($"Approval {input.ApprovalId} kept changing.");
            }

            await NotifyAsync(final, durable);
            await PublishAsync(final);
            return new ApprovalOutcome(final.Id, final.Status, final.StageIndex, final.Result);
        }
    }

    /// <summary><c>approval.decided</c>, once per approval (its stream is the approval).</summary>
    private Task PublishAsync(ApprovalRecord record) => events.PublishAsync(
        "approval-" + record.Id,
        Loyalty.Domain.Events.EventCatalogue.ApprovalDecided,
        new System.Text.Json.Nodes.JsonObject
        {
            ["approvalId"] = record.Id,
            ["action"] = System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(record.Action.ToString()),
            ["subject"] = record.Subject,
            ["amount"] = record.Amount,
            ["nodeId"] = record.NodeId,
            ["status"] = record.Status,
            ["stage"] = record.StageIndex,
        },
        CancellationToken.None);

    private async Task NotifyAsync(ApprovalRecord record, DurableTaskClient durable)
    {
        // A campaign waiting for its budget hears the outcome as an event (it waits for one; a repeat finds nobody waiting).
        if (record.Action == ApprovalAction.CampaignBudget && JsonSerializer.Deserialize<CampaignBudgetPayload>(record.Payload, ConfigJson.Options) is { } campaign)
        {
            await durable.RaiseAsync(campaign.InstanceId, CampaignBudgetPayload.EventName, new BudgetDecision(record.Id, record.Status), CancellationToken.None);
        }

        var verdict = record.Status switch
        {
            "applied" => "已批准并执行",
            "failed" => "已批准，但执行失败",
            "rejected" => "被驳回",
            _ => "已超时失效",
        };
        var text = $"您提交的审批（{OpenApprovalStage.Describe(record)}）{verdict}。";
        await outbox.QueueAsync(ApprovalRecipients.Principal(record.RequestedBy), record.Id + "-decided", "approval_decided", text, marketing: false, CancellationToken.None);
    }
}

/// <summary>What a campaign-budget approval carries: the waiting campaign instance.</summary>
internal sealed record CampaignBudgetPayload(string InstanceId)
{
    /// <summary>The event the campaign waits for.</summary>
    public const string EventName = "budget-decided";
}

/// <summary>The outcome of a campaign's budget approval (applied = approved).</summary>
internal sealed record BudgetDecision(string ApprovalId, string Status);

/// <summary>An approved campaign budget needs no write of its own: the campaign hears the outcome and goes on.</summary>
internal sealed class ApproveCampaignBudget : IApprovedAction
{
    public ApprovalAction Action => ApprovalAction.CampaignBudget;

    public Task<MemberOutcome> ApplyAsync(ApprovalRecord approval, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(approval);
        return Task.FromResult<MemberOutcome>(new Completed(200, JsonSerializer.Serialize(new { budget = approval.Amount }, ConfigJson.Options), false));
    }
}

/// <summary>Applies an approved points adjustment through the same write as one within authority.</summary>
internal sealed class ApproveAdjustment(Ledger.Adjust adjust) : IApprovedAction
{
    public ApprovalAction Action => ApprovalAction.PointsAdjustment;

    public Task<MemberOutcome> ApplyAsync(ApprovalRecord approval, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(approval);
        var payload = JsonSerializer.Deserialize<Ledger.AdjustmentPayload>(approval.Payload, ConfigJson.Options)!;
        return adjust.ApplyAsync(approval.MemberId!, payload.Points, payload.Reason, payload.StoreId, "approval:" + approval.Id, ApprovalRecipients.Idempotency(approval), cancellationToken);
    }
}
