using System.Text.Json;
using Loyalty.Domain.Approvals;
using Loyalty.Domain.Auth;
using Loyalty.Domain.Common;
using Loyalty.Domain.Org;
using Loyalty.Functions.Durable;
using Loyalty.Functions.Http;
using Loyalty.Storage.Approvals;
using Loyalty.Storage.Audit;
using Loyalty.Storage.Config;
using Loyalty.Storage.Ledger;
using Loyalty.Storage.Schema;

namespace Loyalty.Functions.Approvals;

/// <summary>What a request for approval asks: the action, its amount, where, for whom, why, and what applying it needs.</summary>
internal sealed record ApprovalRequest(ApprovalAction Action, long Amount, string NodeId, string? MemberId, string Subject, string Reason, object Payload);

/// <summary>
/// Opens approval requests: routes them by the <c>approval-policy</c> section, stores the record and starts its
/// <see cref="ApprovalWorkflow"/>. The approval id is derived from the requester and its idempotency key, so a retried
/// request finds the same approval (and a different request under the same key is refused).
/// </summary>
internal sealed class ApprovalRequests(ApprovalStore approvals, ConfigStore config, DurableClients durable, AuditLog audit, TimeProvider time)
{
    /// <summary>Name of the policy's configuration section.</summary>
    public const string PolicySection = "approval-policy";

    /// <summary>The policy in force.</summary>
    public async Task<ApprovalPolicy> GetPolicyAsync(CancellationToken cancellationToken) =>
        (await config.GetAsync(PolicySection, ApprovalPolicy.Default, cancellationToken)).Value;

    /// <summary>The approval id of a request made under an idempotency scope and key.</summary>
    public static string IdFor(string scope, string key) => "ap" + Hashing.Sha256Hex(scope + "\n" + key)[..22];

    /// <summary>Opens (or finds again) the approval of an HTTP request, answering 202 with it.</summary>
    public async Task<IResult> RequestFromHttpAsync(HttpContext http, IdempotencyContext idempotency, ApprovalRequest request, OrgTree org)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(idempotency);
        var opened = await OpenAsync(http.Caller(), request, IdFor(idempotency.Scope, idempotency.Key), idempotency.RequestHash, org, http.RequestAborted);
        if (!opened.IsSuccess)
        {
            return Problems.From(opened.Error);
        }

        var (record, replayed) = opened.Value;
        if (replayed)
        {
            http.Response.Headers["Idempotent-Replayed"] = "true";
        }

        var location = $"/api/approvals/{record.Id}";
        return TypedResults.Accepted(location, ApprovalView.From(record));
    }

    /// <summary>Opens an approval with id <paramref name="id"/>, or finds the one opened earlier by the same request.</summary>
    public async Task<Result<(ApprovalRecord Record, bool Replayed)>> OpenAsync(Principal requester, ApprovalRequest request, string id, string fingerprint, OrgTree org, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(requester);
        ArgumentNullException.ThrowIfNull(request);
        var policy = await GetPolicyAsync(cancellationToken);
        var route = policy.Route(request.Action, request.Amount, requester.Role, request.NodeId, org);
        if (!route.IsSuccess)
        {
            return route.Error;
        }

        var now = time.GetUtcNow();
        var record = new ApprovalRecord(
            id, request.Action, request.Amount, request.NodeId, request.MemberId, request.Subject, request.Reason, requester.Id,
            JsonSerializer.Serialize(request.Payload, ConfigJson.Options), fingerprint, route.Value, 0,
            now + TimeSpan.FromHours(route.Value[0].TimeLimitHours), ApprovalStore.Pending,
            [new ApprovalStep(now, "requested", null, requester.Id, request.Reason)], null, null, now);
        var replayed = false;
        if (!await approvals.CreateAsync(record, cancellationToken))
        {
            var existing = await approvals.GetAsync(id, cancellationToken) ?? throw new InvalidOperationException($"Approval {id} vanished.");
            if (existing.Fingerprint != fingerprint)
            {
                return new DomainError("idempotency_key_reused", "This Idempotency-Key was already used for a different request.", ErrorKind.Unprocessable);
            }

            (record, replayed) = (existing, true);
        }
        else
        {
            await audit.WriteAsync(new AuditRecord(requester.Id, "approval.request", request.NodeId, id, null,
                JsonSerializer.Serialize(new { action = request.Action, request.Amount, request.MemberId, request.Reason }, ConfigJson.Options), now), cancellationToken);
        }

        // Starting is idempotent while the instance runs; a finished request is not started again.
        if (record.IsPending)
        {
            await durable.Client.StartOnceAsync(ApprovalWorkflow.Name, new ApprovalInput(id, record.Stages), ApprovalWorkflow.InstanceId(id), cancellationToken);
        }

        return (record, replayed);
    }
}

/// <summary>An approval as the API shows it.</summary>
internal sealed record ApprovalView(
    string ApprovalId,
    ApprovalAction Action,
    long Amount,
    string StoreId,
    string? MemberId,
    string Subject,
    string Reason,
    string RequestedBy,
    string Status,
    int Stage,
    ApprovalLevel? WaitingFor,
    string? WaitingScopeId,
    DateTimeOffset? DueAt,
    IReadOnlyList<ApprovalStage> Route,
    IReadOnlyList<ApprovalStep> Steps,
    JsonElement? Result,
    DateTimeOffset CreatedAt)
{
    public static ApprovalView From(ApprovalRecord r)
    {
        ArgumentNullException.ThrowIfNull(r);
        JsonElement? result = null;
        if (r.Result is not null)
        {
            using var doc = JsonDocument.Parse(r.Result);
            result = doc.RootElement.Clone();
        }

        return new ApprovalView(
            r.Id, r.Action, r.Amount, r.NodeId, r.MemberId, r.Subject, r.Reason, r.RequestedBy, r.Status, r.StageIndex,
            r.IsPending ? r.Stage.Level : null, r.IsPending ? r.Stage.ScopeId : null, r.IsPending ? r.DueAt : null,
            r.Stages, r.Steps, result, r.CreatedAt);
    }
}
