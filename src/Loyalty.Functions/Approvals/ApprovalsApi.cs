using Azure.Data.Tables;
using System.Text.Json;
using Loyalty.Domain.Approvals;
using Loyalty.Domain.Auth;
using Loyalty.Functions.Durable;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Http;
using Loyalty.Storage.Approvals;
using Loyalty.Storage.Audit;
using Loyalty.Storage.Config;
using Loyalty.Storage.Org;
using Loyalty.Storage.Tables;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Approvals;

/// <summary>Body of <c>POST /api/approvals/{approvalId}/decision</c>.</summary>
internal sealed record DecisionRequest(bool? Approve, string? Comment);

/// <summary>
/// The approvals API. <c>GET /api/approvals?status=pending</c> lists what the caller may decide (its level, within its
/// scope, not its own requests); other statuses list the requests of the caller's scope. A decision is checked (the
/// waiting level's role, the scope, not the requester, in time), recorded on the approval with If-Match, so of two
/// deciders racing one wins and the other gets 409, and then raised to the workflow as its stage's event.
/// </summary>
internal sealed class ApprovalsApi(ApprovalStore approvals, OrgStore org, DurableClients durable, AuditLog audit, TimeProvider time, IOptions<LoyaltyOptions> options)
{
    private const int MaxCommentLength = 500;

    public async Task<IResult> ListAsync(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var caller = http.Caller();
        var status = http.Request.Query["status"].ToString();
        status = status.Length == 0 ? ApprovalStore.Pending : status;
        if (!ApprovalStore.Statuses.Contains(status))
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "status_invalid", "status is " + string.Join(", ", ApprovalStore.Statuses) + ".", "status");
        }

        var tree = await org.GetRequiredAsync(http.RequestAborted);
        if (status == ApprovalStore.Pending)
        {
            var level = ApprovalPolicy.DecidesAt(caller.Role);
            var items = new List<ApprovalView>();
            foreach (var (id, at, scopeId) in await approvals.ListPendingAsync(http.RequestAborted))
            {
                if (at != level || !caller.InScope(tree, scopeId))
                {
                    continue;
                }

                // The index is written with the record; the record is the truth (it may have moved on meanwhile).
                if (await approvals.GetAsync(id, http.RequestAborted) is { IsPending: true } record && record.RequestedBy != caller.Id
                    && record.Stage.Level == level && caller.InScope(tree, record.Stage.ScopeId))
                {
                    items.Add(ApprovalView.From(record));
                }
            }

            return TypedResults.Ok(new { items = items.OrderBy(i => i.DueAt) });
        }

        var continuation = TableContinuation.Decode(http.Request.Query["continuation"].ToString());
        var (page, next) = await approvals.ListAsync(status, 100, continuation, http.RequestAborted);
        var visible = page.Where(r => caller.InScope(tree, r.NodeId) || r.RequestedBy == caller.Id).Select(ApprovalView.From);
        return TypedResults.Ok(new { items = visible, continuation = next?.Encode() });
    }

    public async Task<IResult> GetAsync(HttpContext http, string approvalId)
    {
        ArgumentNullException.ThrowIfNull(http);
        var caller = http.Caller();
        var record = await approvals.GetAsync(approvalId, http.RequestAborted);
        if (record is null)
        {
            return NotFound();
        }

        var tree = await org.GetRequiredAsync(http.RequestAborted);
        return caller.InScope(tree, record.NodeId) || record.RequestedBy == caller.Id
            ? TypedResults.Ok(ApprovalView.From(record))
            : Problems.Create(StatusCodes.Status403Forbidden, "forbidden_scope", "This approval belongs to a store outside your scope.");
    }

    public async Task<IResult> DecideAsync(HttpContext http, string approvalId)
    {
        ArgumentNullException.ThrowIfNull(http);
        var ct = http.RequestAborted;
        var (body, problem) = await JsonBody.ReadAsync<DecisionRequest>(http.Request, options.Value.MaxRequestBodyBytes, [], ct);
        if (problem is not null)
        {
            return problem;
        }

        var request = body!.Value;
        if (request.Approve is not { } approve)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "approve_required", "approve is true or false.", "approve");
        }

        if (request.Comment is { Length: > MaxCommentLength })
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "comment_too_long", $"comment is up to {MaxCommentLength} characters.", "comment");
        }

        var caller = http.Caller();
        var tree = await org.GetRequiredAsync(ct);
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var record = await approvals.GetAsync(approvalId, ct);
            if (record is null)
            {
                return NotFound();
            }

            if (!caller.InScope(tree, record.NodeId))
            {
                return Problems.Create(StatusCodes.Status403Forbidden, "forbidden_scope", "This approval belongs to a store outside your scope.");
            }

            if (!record.IsPending)
            {
                return Problems.Create(StatusCodes.Status409Conflict, "approval_closed", $"This approval is already {record.Status}.");
            }

            if (ApprovalPolicy.CheckDecider(caller, record.Stage, record.RequestedBy, tree) is { } refused)
            {
                return Problems.From(refused);
            }

            var decision = new DecisionEvent(approve, caller.Id, request.Comment);
            if (record.Decision is { } taken && taken.Stage == record.StageIndex)
            {
                // Decided already: the same decider repeating the same decision gets it raised again (the first raise
                // may have been lost); anyone else is too late.
                if (taken.By != caller.Id || taken.Approve != approve)
                {
                    return Problems.Create(StatusCodes.Status409Conflict, "approval_already_decided", $"The {record.Stage.Level} level has decided already.");
                }

                await RaiseAsync(record, decision, ct);
                return TypedResults.Accepted($"/api/approvals/{record.Id}", ApprovalView.From(record));
            }

            var now = time.GetUtcNow();
            if (record.DueAt is { } due && now > due)
            {
                return Problems.Create(StatusCodes.Status409Conflict, "approval_stage_timed_out", $"The {record.Stage.Level} level's time ran out; the request has moved on or expired.");
            }

            var decided = record with
            {
                Decision = new ApprovalDecision(record.StageIndex, approve, caller.Id, request.Comment, now),
                Steps = [.. record.Steps, new ApprovalStep(now, approve ? "approved" : "rejected", record.Stage.Level, caller.Id, request.Comment)],
            };
            if (!await approvals.ReplaceAsync(record, decided, ct))
            {
                continue;
            }

            await audit.WriteAsync(new AuditRecord(caller.Id, approve ? "approval.approve" : "approval.reject", record.NodeId, record.Id,
                JsonSerializer.Serialize(new { stage = record.StageIndex, level = record.Stage.Level }, ConfigJson.Options),
                JsonSerializer.Serialize(new { approve, request.Comment }, ConfigJson.Options), now), ct);
            await RaiseAsync(decided, decision, ct);
            return TypedResults.Accepted($"/api/approvals/{record.Id}", ApprovalView.From(decided));
        }

        return Problems.Create(StatusCodes.Status409Conflict, "approval_already_decided", "The approval changed while deciding; read it again.");
    }

    private Task RaiseAsync(ApprovalRecord record, DecisionEvent decision, CancellationToken cancellationToken) =>
        // The event is named after the stage, and the record accepts one decision per stage, so a repeat changes nothing.
        durable.Client.RaiseAsync(ApprovalWorkflow.InstanceId(record.Id), ApprovalWorkflow.EventName(record.StageIndex), decision, cancellationToken);

    private static IResult NotFound() => Problems.Create(StatusCodes.Status404NotFound, "approval_not_found", "No such approval.");
}
