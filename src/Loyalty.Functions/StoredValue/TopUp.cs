using Loyalty.Domain.Auth;
using Loyalty.Domain.Ledger;
using Loyalty.Domain.Programme;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Http;
using Loyalty.Functions.Ledger;
using Loyalty.Functions.Programme;
using Loyalty.Storage.Ledger;
using Loyalty.Storage.Members;
using Loyalty.Storage.Org;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.StoredValue;

/// <summary>Channels a top-up can come through.</summary>
internal enum TopUpChannel
{
    StoreTerminal,
    BankCard,
    PartnerCard,
    Online,
    HqBatch,
}

/// <summary>Body of <c>POST /api/members/{memberId}/top-ups</c> (amount in fen).</summary>
internal sealed record TopUpRequest(long? Amount, TopUpChannel? Channel, string? StoreId, string? CardNumber);

/// <summary>The answer: what was added, and the balances to use at once.</summary>
internal sealed record TopUpReceipt(string MemberId, long Amount, long Bonus, TopUpChannel Channel, string StoreId, BalancesDto Balances, string? UpgradedTo = null);

/// <summary>
/// Top-up (充值): principal plus any configured bonus, kept apart, usable at once. Only designated stores or operators
/// may top up when the rules say so; HQ batch top-ups need an HQ role.
/// </summary>
internal sealed class TopUp(MemberTransactions transactions, MemberStore members, OrgStore org, ProgrammeConfig programme, TierUpgrades upgrades, IOptions<LoyaltyOptions> options)
{
    private static readonly string[] ServerOwned = ["bonus", "balance", "balances", "points", "principal", "memberId"];

    public async Task<IResult> HandleAsync(HttpContext http, string memberId)
    {
        ArgumentNullException.ThrowIfNull(http);
        var (prepared, problem) = await MemberOperation.PrepareAsync<TopUpRequest>(http, options.Value.MaxRequestBodyBytes, ServerOwned);
        if (problem is not null)
        {
            return problem;
        }

        var (caller, request, idempotency) = prepared!;
        if (MemberOperation.CheckMemberId(memberId) is { } missing)
        {
            return missing;
        }

        if (request.Amount is null)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "amount_invalid", "amount (fen) is required.", "amount");
        }

        var channel = request.Channel ?? TopUpChannel.StoreTerminal;
        if (channel == TopUpChannel.HqBatch && caller.Role is not (Role.HqAdmin or Role.Ops))
        {
            return Problems.Create(StatusCodes.Status403Forbidden, "forbidden_role", "HQ batch top-ups are for HQ roles.");
        }

        var tree = await org.GetRequiredAsync(http.RequestAborted);
        if (MemberOperation.CheckStore(caller, tree, request.StoreId) is { } storeProblem)
        {
            return storeProblem;
        }

        var rules = await programme.GetRulesAsync(http.RequestAborted);
        var outcome = await ApplyAsync(memberId, caller.Id, request with { Channel = channel }, idempotency, rules, tree, bonus: null, http.RequestAborted);
        return MemberOperation.ToResult(outcome);
    }

    /// <summary>
    /// The top-up itself, once the caller and the request are checked (also for HQ batch rows): principal plus the
    /// bonus of the bands, or <paramref name="bonus"/> when a batch row names its own, in one member transaction.
    /// </summary>
    public async Task<MemberOutcome> ApplyAsync(string memberId, string actor, TopUpRequest request, IdempotencyContext idempotency, ProgrammeRules rules, Domain.Org.OrgTree tree, long? bonus, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(idempotency);
        ArgumentNullException.ThrowIfNull(rules);
        var channel = request.Channel ?? TopUpChannel.StoreTerminal;
        var change = PointsOperations.TopUp(request.Amount!.Value, rules.TopUp, request.StoreId!, actor, upgrades.Today, tree);
        if (!change.IsSuccess)
        {
            return new Refused(change.Error);
        }

        var amounts = bonus is { } own ? change.Value with { Bonus = own } : change.Value;
        return await transactions.ExecuteAsync(memberId, idempotency, async (account, ct) =>
        {
            var card = await CardChecks.CheckAsync(members, account, request.CardNumber, ct);
            if (!card.IsSuccess)
            {
                return card.Error;
            }

            // Under a top-up tier basis (充值会员) the principal counts toward tiers, and may upgrade in this transaction.
            var tier = rules.Policy.Basis == TierBasis.TopUp
                ? await upgrades.ApplyAsync(account, rules, amounts.Principal, "top-up:" + idempotency.Scope + ":" + idempotency.Key, request.StoreId!, ct)
                : null;
            var decision = new WriteDecision(
                new LedgerEntryDraft(LedgerEntryType.TopUp, "top_up." + Naming.Snake(channel), amounts, request.StoreId!, request.CardNumber is { } n ? "card:" + n[^4..] : null, rules.Version, null),
                balances => new TopUpReceipt(memberId, amounts.Principal, amounts.Bonus, channel, request.StoreId!, BalancesDto.From(balances), tier?.UpgradedTo?.Code),
                WriteDecision.None);
            return tier is null ? decision : upgrades.Apply(decision, tier, memberId, actor);
        }, cancellationToken);
    }
}
