using System.Text.Json;
using Loyalty.Domain.Ledger;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Http;
using Loyalty.Functions.Programme;
using Loyalty.Storage.Ledger;
using Loyalty.Storage.Org;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Ledger;

/// <summary>Body of <c>POST /api/members/{memberId}/adjustments</c>.</summary>
internal sealed record AdjustmentRequest(long? Points, string? Reason, string? StoreId);

/// <summary>The answer.</summary>
internal sealed record AdjustmentReceipt(string MemberId, long Points, string Reason, string StoreId, BalancesDto Balances);

/// <summary>
/// Manual points adjustment: applied at once within the caller's authority (configured per role) and audited in the
/// same transaction; above it, 403 <c>approval_required</c>. A negative adjustment cannot take points below zero.
/// </summary>
internal sealed class Adjust(MemberTransactions transactions, OrgStore org, ProgrammeConfig programme, IOptions<LoyaltyOptions> options)
{
    private static readonly string[] ServerOwned = ["balance", "balances", "memberId"];

    public static Task<IResult> Handle(HttpContext http, string memberId, Adjust handler) => handler.HandleAsync(http, memberId);

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
        var change = PointsOperations.Adjustment(request.Points ?? 0, request.Reason, caller.Role, rules.Authority);
        if (!change.IsSuccess)
        {
            return Problems.From(change.Error);
        }

        var reason = request.Reason!.Trim();
        var outcome = await transactions.ExecuteAsync(memberId, idempotency, (account, _) =>
        {
            var decision = new WriteDecision(
                new LedgerEntryDraft(LedgerEntryType.Adjustment, "adjustment.manual", change.Value, storeId, null, rules.Version, reason),
                balances => new AdjustmentReceipt(memberId, change.Value.Points, reason, storeId, BalancesDto.From(balances)),
                body => [new(Storage.Tables.TableTransactionActionType.Add, transactions.AuditRow(
                    memberId, caller.Id, "points.adjust", memberId,
                    JsonSerializer.Serialize(new { account.Balances.Points }, Storage.Config.ConfigJson.Options),
                    JsonSerializer.Serialize(new { points = change.Value.Points, reason }, Storage.Config.ConfigJson.Options)))]);
            return Task.FromResult<Domain.Common.Result<LedgerDecision>>(decision);
        }, http.RequestAborted);
        return MemberOperation.ToResult(outcome);
    }
}
