using Azure.Data.Tables;
using System.Text.Json;
using Loyalty.Domain.Approvals;
using Loyalty.Domain.Auth;
using Loyalty.Domain.Ledger;
using Loyalty.Functions.Approvals;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Http;
using Loyalty.Functions.Ledger;
using Loyalty.Functions.Programme;
using Loyalty.Storage.Approvals;
using Loyalty.Storage.Config;
using Loyalty.Storage.Ledger;
using Loyalty.Storage.Members;
using Loyalty.Storage.Org;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.StoredValue;

/// <summary>Body of <c>POST /api/members/{memberId}/stored-value-refunds</c> (amount in fen).</summary>
internal sealed record StoredValueRefundRequest(long? Amount, string? StoreId, string? Reason);

/// <summary>The answer: the principal paid back, the bonus that went with it, and the balances.</summary>
internal sealed record StoredValueRefundReceipt(string MemberId, long Amount, long BonusTakenBack, string StoreId, string Reason, BalancesDto Balances);

/// <summary>
/// Stored-value refund (退储值): pays principal back to the member; bonus value is never paid out, and the bonus that
/// came with the refunded principal is taken back: principal leaves the oldest top-ups first, and each takes the same
/// share of its own bonus (<see cref="StoredValueLots.RefundPrincipal"/>). The account needs an active card. Up to the <c>approval-policy</c> threshold it is applied at once with an audit row; above it, the
/// answer is 202 with an approval, and the refund is applied when the chain approves it.
/// </summary>
internal sealed class RefundStoredValue(MemberTransactions transactions, MemberStore members, OrgStore org, ProgrammeConfig programme, ApprovalRequests approvals, AuthorityUsageStore usage, IOptions<LoyaltyOptions> options)
{
    private const long MaxAmount = 100_000_000;
    private static readonly string[] ServerOwned = ["balance", "balances", "memberId"];

    public async Task<IResult> HandleAsync(HttpContext http, string memberId)
    {
        ArgumentNullException.ThrowIfNull(http);
        var (prepared, problem) = await MemberOperation.PrepareAsync<StoredValueRefundRequest>(http, options.Value.MaxRequestBodyBytes, ServerOwned);
        if (problem is not null)
        {
            return problem;
        }

        var (caller, request, idempotency) = prepared!;
        if (MemberOperation.CheckMemberId(memberId) is { } missing)
        {
            return missing;
        }

        if (request.Amount is not (>= 1 and <= MaxAmount))
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "amount_invalid", $"amount is 1-{MaxAmount} fen.", "amount");
        }

        if (string.IsNullOrWhiteSpace(request.Reason) || request.Reason.Length > PointsOperations.MaxReasonLength)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "reason_required", $"Give a reason of 1-{PointsOperations.MaxReasonLength} characters.", "reason");
        }

        var tree = await org.GetRequiredAsync(http.RequestAborted);
        if (MemberOperation.CheckStore(caller, tree, request.StoreId) is { } storeProblem)
        {
            return storeProblem;
        }

        var amount = request.Amount.Value;
        var reason = request.Reason.Trim();
        var policy = await approvals.GetPolicyAsync(http.RequestAborted);
        var daily = (await programme.GetRulesAsync(http.RequestAborted)).Authority.CountsByDay(caller.Role);

        if (policy.NeedsApproval(ApprovalAction.StoredValueRefund, amount, caller.Role))
        {
            return await RequestApprovalAsync();
        }

        // With the daily window the member's and this operator's refunds of today count too. Both are checked inside
        // the member's transaction, so a repeated request replays its first answer instead of being sent for approval.
        var window = daily ? new DailyAuthority(caller.Role, await usage.GetAsync(caller.Id, transactions.Today, http.RequestAborted)) : null;
        var outcome = await ApplyAsync(memberId, amount, request.StoreId!, reason, caller.Id, idempotency, http.RequestAborted, window);
        if (outcome is Refused { Error.Code: "approval_required" })
        {
            return await RequestApprovalAsync();
        }

        if (window is not null && outcome is Completed { Replayed: false })
        {
            await usage.AddAsync(caller.Id, ApprovalAction.StoredValueRefund, amount, transactions.Today, http.RequestAborted);
        }

        return MemberOperation.ToResult(outcome);

        async Task<IResult> RequestApprovalAsync()
        {
            // Refuse at once what could never be applied: an unknown member, no usable card, not enough principal.
            var member = await members.GetAsync(memberId, http.RequestAborted);
            if (member is null)
            {
                return Problems.Create(StatusCodes.Status404NotFound, "member_not_found", "No such member.");
            }

            if (member.Account.StoredValuePrincipal < amount)
            {
                return Problems.Create(StatusCodes.Status422UnprocessableEntity, "insufficient_stored_value", "Only principal can be refunded, and there is not that much.", "amount");
            }

            if (member.Cards.All(c => c.Status != Domain.Members.CardStatus.Active))
            {
                return Problems.Create(StatusCodes.Status409Conflict, "no_active_card", "The member has no active card (lost, frozen or cancelled).");
            }

            return await approvals.RequestFromHttpAsync(http, idempotency, new ApprovalRequest(
                ApprovalAction.StoredValueRefund, amount, request.StoreId!, memberId, memberId, reason,
                new StoredValueRefundPayload(amount, request.StoreId!, reason)), tree);
        }
    }

    /// <summary>
    /// Pays <paramref name="amount"/> of principal back, exactly once under <paramref name="idempotency"/>. With
    /// <paramref name="window"/> (a direct request under the daily window) the member's and the operator's refunds of
    /// today count towards the caller's limit, and going over it refuses with <c>approval_required</c>; an approved
    /// refund is checked against nothing.
    /// </summary>
    public async Task<MemberOutcome> ApplyAsync(string memberId, long amount, string storeId, string reason, string actorId, IdempotencyContext idempotency, CancellationToken cancellationToken, DailyAuthority? window = null)
    {
        var rules = await programme.GetRulesAsync(cancellationToken);
        var policy = await approvals.GetPolicyAsync(cancellationToken);
        return await transactions.ExecuteAsync(memberId, idempotency, async (account, ct) =>
        {
            var card = await CardChecks.CheckAsync(members, account, null, ct);
            if (!card.IsSuccess)
            {
                return card.Error;
            }

            if (account.Balances.Principal < amount)
            {
                return new Domain.Common.DomainError("insufficient_stored_value", "Only principal can be refunded, and there is not that much.", Domain.Common.ErrorKind.Unprocessable);
            }

            var today = AuthorityUsage.Parse(account.AuthorityUsage, transactions.Today);
            if (window is not null && window.Exceeds(ApprovalAction.StoredValueRefund, amount, today, total => !policy.NeedsApproval(ApprovalAction.StoredValueRefund, total, window.Role)))
            {
                return new Domain.Common.DomainError("approval_required", "Today's refunds of this member would exceed the caller's authority.", Domain.Common.ErrorKind.Forbidden);
            }

            var (bonus, lots) = StoredValueLots.Parse(account.StoredValueLots, account.Balances.Principal, account.Balances.Bonus).RefundPrincipal(amount);
            return new WriteDecision(
                new LedgerEntryDraft(LedgerEntryType.StoredValueRefund, "stored_value.refund", new LedgerChange(0, -amount, -bonus), storeId, null, rules.Version, reason),
                balances => new StoredValueRefundReceipt(memberId, amount, bonus, storeId, reason, BalancesDto.From(balances)),
                body => [new(TableTransactionActionType.Add, transactions.AuditRow(
                    memberId, actorId, "stored_value.refund", memberId,
                    JsonSerializer.Serialize(new { account.Balances.Principal, account.Balances.Bonus }, ConfigJson.Options),
                    JsonSerializer.Serialize(new { amount, bonusTakenBack = bonus, reason }, ConfigJson.Options)))])
            {
                StoredValueLots = lots.ToJson(),
                AuthorityUsage = window is null ? null : today.Add(ApprovalAction.StoredValueRefund, amount).ToJson(),
            };
        }, cancellationToken);
    }
}

/// <summary>What an approved stored-value refund applies.</summary>
internal sealed record StoredValueRefundPayload(long Amount, string StoreId, string Reason);

/// <summary>Applies an approved stored-value refund.</summary>
internal sealed class ApproveStoredValueRefund(RefundStoredValue refunds) : IApprovedAction
{
    public ApprovalAction Action => ApprovalAction.StoredValueRefund;

    public Task<MemberOutcome> ApplyAsync(ApprovalRecord approval, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(approval);
        var payload = JsonSerializer.Deserialize<StoredValueRefundPayload>(approval.Payload, ConfigJson.Options)!;
        return refunds.ApplyAsync(approval.MemberId!, payload.Amount, payload.StoreId, payload.Reason, "approval:" + approval.Id, ApprovalRecipients.Idempotency(approval), cancellationToken);
    }
}
