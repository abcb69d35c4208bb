using Loyalty.Domain.Ledger;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Http;
using Loyalty.Functions.Programme;
using Loyalty.Storage.Ledger;
using Loyalty.Storage.Members;
using Loyalty.Storage.Org;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Ledger;

/// <summary>Body of <c>POST /api/members/{memberId}/redemptions</c>: a reward from the catalogue, or a number of points.</summary>
internal sealed record RedemptionRequest(string? RewardId, long? Points, string? StoreId, string? CardNumber);

/// <summary>The answer.</summary>
internal sealed record RedemptionReceipt(string MemberId, string? RewardId, string? RewardName, long Points, string StoreId, BalancesDto Balances);

/// <summary>Points redemption (积分兑换): not enough points is <c>insufficient_points</c> and writes nothing.</summary>
internal sealed class Redeem(MemberTransactions transactions, MemberStore members, OrgStore org, ProgrammeConfig programme, IOptions<LoyaltyOptions> options)
{
    private static readonly string[] ServerOwned = ["balance", "balances", "memberId"];

    public async Task<IResult> HandleAsync(HttpContext http, string memberId)
    {
        ArgumentNullException.ThrowIfNull(http);
        var (prepared, problem) = await MemberOperation.PrepareAsync<RedemptionRequest>(http, options.Value.MaxRequestBodyBytes, ServerOwned);
        if (problem is not null)
        {
            return problem;
        }

        var (caller, request, idempotency) = prepared!;
        var refused = MemberOperation.CheckMemberId(memberId) ?? MemberOperation.CheckStore(caller, await org.GetRequiredAsync(http.RequestAborted), request.StoreId);
        if (refused is not null)
        {
            return refused;
        }

        var rules = await programme.GetRulesAsync(http.RequestAborted);
        var decided = PointsOperations.Redemption(request.RewardId, request.Points, rules.Rewards);
        if (!decided.IsSuccess)
        {
            return Problems.From(decided.Error);
        }

        var (points, reward) = decided.Value;
        var outcome = await transactions.ExecuteAsync(memberId, idempotency, async (account, ct) =>
        {
            var card = await CardChecks.CheckAsync(members, account, request.CardNumber, ct);
            if (!card.IsSuccess)
            {
                return card.Error;
            }

            return new WriteDecision(
                new LedgerEntryDraft(LedgerEntryType.Redemption, reward is null ? "redemption.points" : "redemption.reward", new LedgerChange(-points, 0, 0), request.StoreId!, reward?.RewardId, rules.Version, null),
                balances => new RedemptionReceipt(memberId, reward?.RewardId, reward?.Name, points, request.StoreId!, BalancesDto.From(balances)),
                WriteDecision.None);
        }, http.RequestAborted);
        return MemberOperation.ToResult(outcome);
    }
}
