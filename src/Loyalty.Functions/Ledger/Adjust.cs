using Azure.Data.Tables;
using System.Text.Json;
using Loyalty.Domain.Approvals;
using Loyalty.Domain.Ledger;
using Loyalty.Functions.Approvals;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Http;
using Loyalty.Functions.Programme;
using Loyalty.Storage.Ledger;
using Loyalty.Storage.Members;
using Loyalty.Storage.Org;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Ledger;

/// <summary>Body of <c>POST /api/members/{memberId}/adjustments</c>.</summary>
internal sealed record AdjustmentRequest(long? Points, string? Reason, string? StoreId);

/// <summary>The answer.</summary>
internal sealed record AdjustmentReceipt(string MemberId, long Points, string Reason, string StoreId, BalancesDto Balances);

/// <summary>
/// Manual points adjustment: applied at once within the caller's authority (configured per role) and audited in the
/// same transaction; above it, 202 with an approval that goes up the chain (see <see cref="ApprovalWorkflow"/>) and
/// applies the adjustment once approved. A negative adjustment cannot take points below zero.
/// </summary>
internal sealed class Adjust(MemberTransactions transactions, OrgStore org, ProgrammeConfig programme, MemberStore members, ApprovalRequests approvals, Storage.Approvals.AuthorityUsageStore usage, IOptions<LoyaltyOptions> options)
{
    private static readonly string[] ServerOwned = ["balance", "balances", "memberId"];

    public async Task<IResult> HandleAsync(HttpContext http, string memberId)
    {
        ArgumentNullException.ThrowIfNull(http);
        var (prepared, problem) = await MemberOperation.PrepareAsync<AdjustmentRequest>(http, options.Value.MaxRequestBodyBytes, ServerOwned);
        if (problem is not null)
        {
            return problem;
        }

        var (caller, request, idempotency) = prepared!;
        var tree = await org.GetRequiredAsync(http.RequestAborted);

        // Store-level callers adjust at their store; regional and HQ callers may name a store or act at their own level.
        var storeId = request.StoreId ?? caller.ScopeId;
        if (MemberOperation.CheckMemberId(memberId) is { } missing)
        {
            return missing;
        }

        if (request.StoreId is not null && MemberOperation.CheckStore(caller, tree, request.StoreId) is { } storeProblem)
        {
            return storeProblem;
        }

        var rules = await programme.GetRulesAsync(http.RequestAborted);
        var daily = rules.Authority.CountsByDay(caller.Role);
        var change = PointsOperations.Adjustment(request.Points ?? 0, request.Reason, caller.Role, rules.Authority);
        if (change.Error is { Code: "approval_required" })
        {
            return await RequestApprovalAsync();
        }

        if (!change.IsSuccess)
        {
            return Problems.From(change.Error);
        }

        // With the daily window the member's and this operator's adjustments of today count too, checked inside the
        // member's transaction so that a repeated request replays its first answer.
        var window = daily ? new DailyAuthority(caller.Role, await usage.GetAsync(caller.Id, transactions.Today, http.RequestAborted)) : null;
        var outcome = await ApplyAsync(memberId, change.Value.Points, request.Reason!.Trim(), storeId, caller.Id, idempotency, http.RequestAborted, window);
        if (outcome is Storage.Ledger.Refused { Error.Code: "approval_required" })
        {
            return await RequestApprovalAsync();
        }

        if (window is not null && outcome is Storage.Ledger.Completed { Replayed: false })
        {
            await usage.AddAsync(caller.Id, ApprovalAction.PointsAdjustment, change.Value.Points, transactions.Today, http.RequestAborted);
        }

        return MemberOperation.ToResult(outcome);

        async Task<IResult> RequestApprovalAsync()
        {
            // Above the caller's authority: the request goes up the chain instead (202 with the approval).
            if (!await members.ExistsAsync(memberId, http.RequestAborted))
            {
                return Problems.Create(StatusCodes.Status404NotFound, "member_not_found", "No such member.");
            }

            var reasonText = request.Reason!.Trim();
            return await approvals.RequestFromHttpAsync(http, idempotency, new ApprovalRequest(
                ApprovalAction.PointsAdjustment, request.Points!.Value, storeId, memberId, memberId, reasonText,
                new AdjustmentPayload(request.Points.Value, reasonText, storeId)), tree);
        }
    }

    /// <summary>
    /// Writes an adjustment of <paramref name="points"/> with its audit row, exactly once under
    /// <paramref name="idempotency"/>: at once within authority, or when an approval of it is applied.
    /// </summary>
    /// <remarks>With <paramref name="window"/> (a direct request under the daily window) the member's and the
    /// operator's adjustments of today count towards the caller's limit; going over it refuses with
    /// <c>approval_required</c>.</remarks>
    public async Task<Storage.Ledger.MemberOutcome> ApplyAsync(string memberId, long points, string reason, string storeId, string actorId, IdempotencyContext idempotency, CancellationToken cancellationToken, DailyAuthority? window = null)
    {
        var rules = await programme.GetRulesAsync(cancellationToken);
        var change = new LedgerChange(points, 0, 0);
        return await transactions.ExecuteAsync(memberId, idempotency, (account, _) =>
        {
            var today = AuthorityUsage.Parse(account.AuthorityUsage, transactions.Today);
            if (window is not null && window.Exceeds(ApprovalAction.PointsAdjustment, points, today, total => total <= rules.Authority.LimitFor(window.Role)))
            {
                return Task.FromResult<Domain.Common.Result<LedgerDecision>>(
                    new Domain.Common.DomainError("approval_required", "Today's adjustments of this member would exceed the caller's authority.", Domain.Common.ErrorKind.Forbidden, "points"));
            }

            var decision = new WriteDecision(
                new LedgerEntryDraft(LedgerEntryType.Adjustment, "adjustment.manual", change, storeId, null, rules.Version, reason),
                balances => new AdjustmentReceipt(memberId, points, reason, storeId, BalancesDto.From(balances)),
                body => [new(TableTransactionActionType.Add, transactions.AuditRow(
                    memberId, actorId, "points.adjust", memberId,
                    JsonSerializer.Serialize(new { account.Balances.Points }, Storage.Config.ConfigJson.Options),
                    JsonSerializer.Serialize(new { points, reason }, Storage.Config.ConfigJson.Options)))])
            {
                AuthorityUsage = window is null ? null : today.Add(ApprovalAction.PointsAdjustment, points).ToJson(),
            };
            return Task.FromResult<Domain.Common.Result<LedgerDecision>>(decision);
        }, cancellationToken);
    }
}

/// <summary>What an approved adjustment applies.</summary>
internal sealed record AdjustmentPayload(long Points, string Reason, string StoreId);
