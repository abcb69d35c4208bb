using Loyalty.Domain.Common;
using Loyalty.Domain.Ledger;
using Loyalty.Domain.Programme;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Http;
using Loyalty.Functions.Ledger;
using Loyalty.Storage.Ledger;
using Loyalty.Storage.Org;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Programme;

/// <summary>Body of <c>POST /api/members/{memberId}/memberships</c>.</summary>
internal sealed record BuyMembershipRequest(string? PlanId, string? StoreId, bool? PayWithStoredValue);

/// <summary>The answer.</summary>
internal sealed record MembershipReceipt(string MemberId, string PlanId, string Tier, DateTimeOffset PaidUntil, long Price, long StoredValuePaid, BalancesDto Balances);

/// <summary>
/// Buys or renews a paid membership (付费会员) at a store: the plan's tier applies until the end of its validity,
/// counted from the end of any membership still running. The fee is paid at the till, or from stored value (bonus or
/// principal first, as the stored-value rules say). One ledger entry records it, with any stored value spent.
/// </summary>
internal sealed class BuyMembership(MemberTransactions transactions, OrgStore org, ProgrammeConfig programme, TimeProvider time, IOptions<LoyaltyOptions> options)
{
    public async Task<IResult> HandleAsync(HttpContext http, string memberId)
    {
        ArgumentNullException.ThrowIfNull(http);
        var ct = http.RequestAborted;
        var (prepared, problem) = await MemberOperation.PrepareAsync<BuyMembershipRequest>(http, options.Value.MaxRequestBodyBytes, ["paidUntil", "balances", "tier"]);
        if (problem is not null)
        {
            return problem;
        }

        var (caller, request, idempotency) = prepared!;
        if (MemberOperation.CheckStore(caller, await org.GetRequiredAsync(ct), request.StoreId) is { } storeProblem)
        {
            return storeProblem;
        }

        if (MemberOperation.CheckMemberId(memberId) is { } missing)
        {
            return missing;
        }

        var plans = await programme.GetPaidMembershipAsync(ct);
        if (plans.Plans.FirstOrDefault(p => p.PlanId == request.PlanId) is not { } plan)
        {
            return Problems.Create(StatusCodes.Status422UnprocessableEntity, "plan_unknown", $"No membership plan '{request.PlanId}'.", "planId");
        }

        var rules = await programme.GetRulesAsync(ct);
        var outcome = await transactions.ExecuteAsync(memberId, idempotency, (account, _) =>
        {
            var now = time.GetUtcNow();
            var from = account.PaidUntil is { } until && until > now && account.PaidTier == plan.Tier ? until : now;
            var paidUntil = from.AddMonths(plan.Months);
            var fromStoredValue = request.PayWithStoredValue == true ? plan.Price : 0;
            if (fromStoredValue > account.Balances.StoredValue)
            {
                return Task.FromResult<Result<LedgerDecision>>(new DomainError("insufficient_stored_value", "Not enough stored value.", ErrorKind.Unprocessable, "payWithStoredValue"));
            }

            var (principal, bonus) = SalePricing.Split(fromStoredValue, account.Balances, rules.StoredValue.SpendOrder);
            return Task.FromResult<Result<LedgerDecision>>(new WriteDecision(
                new LedgerEntryDraft(LedgerEntryType.Membership, "membership." + plan.PlanId, new LedgerChange(0, -principal, -bonus), request.StoreId!, plan.PlanId, rules.Version, $"{plan.Tier} until {paidUntil:yyyy-MM-dd}"),
                balances => new MembershipReceipt(memberId, plan.PlanId, plan.Tier, paidUntil, plan.Price, fromStoredValue, BalancesDto.From(balances)),
                WriteDecision.None)
            {
                PaidMembership = (plan.Tier, paidUntil),
            });
        }, ct);
        return MemberOperation.ToResult(outcome);
    }
}
