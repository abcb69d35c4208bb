using Azure.Data.Tables;
using System.Text.Json;
using Loyalty.Domain.Approvals;
using Loyalty.Domain.Auth;
using Loyalty.Domain.Cards;
using Loyalty.Domain.Common;
using Loyalty.Domain.Members;
using Loyalty.Functions.Approvals;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Http;
using Loyalty.Functions.Ledger;
using Loyalty.Functions.Members;
using Loyalty.Storage.Ledger;
using Loyalty.Storage.Approvals;
using Loyalty.Storage.Members;
using Loyalty.Storage.Org;
using Loyalty.Storage.Tables;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Cards;

/// <summary>
/// <c>POST /api/cards/{cardNumber}/{op}</c>: report-lost, cancel-lost, freeze, unfreeze, replace, cancel. Each is one
/// member transaction that changes the card row and the account's count of usable cards, with an audit row.
/// Unfreezing, replacing and cancelling are for store managers and above. A replacement gets a new number and keeps
/// the balance (balances belong to the account); it needs an Idempotency-Key.
/// </summary>
internal sealed class CardOperations(MemberTransactions transactions, MemberStore members, OrgStore org, ApprovalRequests approvals, TimeProvider time, IOptions<LoyaltyOptions> options)
{
    private static readonly Role[] ManagerRoles = [Role.StoreManager, Role.RegionManager, Role.HqAdmin, Role.Ops];

    public async Task<IResult> HandleAsync(HttpContext http, string cardNumber, string op)
    {
        ArgumentNullException.ThrowIfNull(http);
        var ct = http.RequestAborted;
        if (CardStateMachine.ParseRoute(op) is not { } operation)
        {
            return Problems.Create(StatusCodes.Status404NotFound, "card_operation_unknown", "Operations: report-lost, cancel-lost, freeze, unfreeze, replace, cancel.");
        }

        var caller = http.Caller();
        if (operation is CardOperation.Unfreeze or CardOperation.Replace or CardOperation.Cancel && !ManagerRoles.Contains(caller.Role))
        {
            return Problems.Create(StatusCodes.Status403Forbidden, "forbidden_role", $"A {caller.Role} may not {op} a card.");
        }

        var (key, keyProblem) = IdempotencyKey.Read(http.Request);
        if (keyProblem is not null && operation == CardOperation.Replace)
        {
            return keyProblem;
        }

        string? reason = null;
        byte[] raw = [];
        if (http.Request.ContentLength is > 0 || http.Request.Headers.TransferEncoding.Count > 0)
        {
            var (body, bodyProblem) = await JsonBody.ReadAsync<CardOperationRequest>(http.Request, options.Value.MaxRequestBodyBytes, ["status"], ct);
            if (bodyProblem is not null)
            {
                return bodyProblem;
            }

            reason = body!.Value.Reason;
            raw = body.Raw;
        }

        var parsed = CardNumber.Parse(cardNumber);
        var memberId = parsed.IsSuccess ? await members.FindByIndexAsync(MemberStore.CardIndexKey(parsed.Value.Value), ct) : null;
        if (memberId is null || await members.GetCardRowAsync(memberId, parsed.Value!.Value, ct) is null)
        {
            return Problems.Create(StatusCodes.Status404NotFound, "card_not_found", "No such card.");
        }

        // State operations repeat harmlessly (a second report-lost is refused by the state machine), so their key is optional.
        var idempotency = key is null ? null : new IdempotencyContext(caller.Id, key, IdempotencyKey.RequestHash(http.Request, raw));
        string? newNumber = null;
        if (operation == CardOperation.Replace)
        {
            newNumber = await IssueCard.ClaimNumberAsync(members, memberId, MemberTransactions.IdempotencyRowKey(idempotency!), options.Value.CardPrefix, ct);
        }

        if (operation == CardOperation.Unfreeze && await NeedsApprovalAsync(memberId, cardNumber, caller.Role, ct) is { } member)
        {
            if (idempotency is null)
            {
                return keyProblem!;
            }

            var tree = await org.GetRequiredAsync(ct);
            return await approvals.RequestFromHttpAsync(http, idempotency, new ApprovalRequest(
                ApprovalAction.CardUnfreeze, member.Account.StoredValuePrincipal + member.Account.StoredValueBonus, member.Profile.StoreId, memberId,
                "****" + cardNumber[^4..], reason ?? "unfreeze", new UnfreezePayload(cardNumber, reason)), tree);
        }

        var outcome = await ApplyAsync(memberId, cardNumber, operation, op, caller.Id, reason, idempotency, newNumber, ct);
        return MemberOperation.ToResult(outcome);
    }

    /// <summary>Applies a card operation in one member transaction (at once, or when an approved unfreeze is applied).</summary>
    public async Task<MemberOutcome> ApplyAsync(string memberId, string cardNumber, CardOperation operation, string op, string actorId, string? reason, IdempotencyContext? idempotency, string? newNumber, CancellationToken cancellationToken)
    {
        return await transactions.ExecuteAsync(memberId, idempotency, async (account, token) =>
        {
            var row = await members.GetCardRowAsync(memberId, cardNumber, token) ?? throw new InvalidOperationException("The card row vanished.");
            var card = MemberStore.CardFrom(row);
            var next = CardStateMachine.Apply(card.Status, operation);
            if (!next.IsSuccess)
            {
                return next.Error;
            }

            var updated = card with { Status = next.Value, ReplacedBy = newNumber ?? card.ReplacedBy };
            var replacement = newNumber is null ? null : new MemberCard(newNumber, card.Type, CardStatus.Active, time.GetUtcNow(), card.DailyLimit, card.MonthlyLimit);
            var delta = (updated.Status == CardStatus.Active ? 1 : 0) - (card.Status == CardStatus.Active ? 1 : 0) + (replacement is null ? 0 : 1);
            var rows = new List<TableTransactionAction>
            {
                new(TableTransactionActionType.UpdateReplace, MemberStore.CardRow(memberId, updated), row.ETag),
                new(TableTransactionActionType.Add, transactions.AuditRow(
                    memberId, actorId, "card." + op, cardNumber[^4..],
                    JsonSerializer.Serialize(new { status = card.Status.ToString() }, Storage.Config.ConfigJson.Options),
                    JsonSerializer.Serialize(new { status = updated.Status.ToString(), replacedBy = newNumber?[^4..], reason }, Storage.Config.ConfigJson.Options))),
            };
            if (replacement is not null)
            {
                rows.Add(new(TableTransactionActionType.Add, MemberStore.CardRow(memberId, replacement)));
            }

            return new WriteDecision(
                null,
                _ => new CardOperationResult(memberId, op, CardView.From(updated), replacement is null ? null : CardView.From(replacement)),
                _ => rows,
                StatusCodes.Status200OK,
                delta);
        }, cancellationToken);
    }

    // Unfreezing needs approval when the policy says so for the account's stored value and the card is frozen now:
    // the member read for that decision, or null when no approval is needed.
    private async Task<MemberSnapshot?> NeedsApprovalAsync(string memberId, string cardNumber, Role role, CancellationToken cancellationToken)
    {
        var policy = await approvals.GetPolicyAsync(cancellationToken);
        if (policy.For(ApprovalAction.CardUnfreeze).ApprovalAbove is null)
        {
            return null;
        }

        var member = await members.GetAsync(memberId, cancellationToken);
        return member is not null
            && member.Cards.Any(c => c.CardNumber == cardNumber && c.Status == CardStatus.Frozen)
            && policy.NeedsApproval(ApprovalAction.CardUnfreeze, member.Account.StoredValuePrincipal + member.Account.StoredValueBonus, role)
                ? member
                : null;
    }
}

/// <summary>What an approved unfreeze applies.</summary>
internal sealed record UnfreezePayload(string CardNumber, string? Reason);

/// <summary>Applies an approved unfreeze (keyed by the approval id, so applying it again changes nothing).</summary>
internal sealed class ApproveUnfreeze(CardOperations cards) : IApprovedAction
{
    public ApprovalAction Action => ApprovalAction.CardUnfreeze;

    public Task<MemberOutcome> ApplyAsync(ApprovalRecord approval, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(approval);
        var payload = JsonSerializer.Deserialize<UnfreezePayload>(approval.Payload, Storage.Config.ConfigJson.Options)!;
        return cards.ApplyAsync(approval.MemberId!, payload.CardNumber, CardOperation.Unfreeze, "unfreeze", "approval:" + approval.Id, payload.Reason, ApprovalRecipients.Idempotency(approval), null, cancellationToken);
    }
}
