using System.Globalization;
using Loyalty.Domain.Common;
using Loyalty.Domain.Ledger;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Http;
using Loyalty.Functions.Programme;
using Loyalty.Storage.Ledger;
using Loyalty.Storage.Org;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Ledger;

/// <summary>Body of <c>POST /api/members/{memberId}/check-ins</c>.</summary>
internal sealed record CheckInRequest(string? StoreId);

/// <summary>The answer: the day checked in and the points it gave.</summary>
internal sealed record CheckInReceipt(string MemberId, string Day, long Points, BalancesDto Balances);

/// <summary>
/// Daily check-in (签到): <c>checkInPoints</c> of the earning rules, once per member and day in the chain's time zone.
/// The day is the idempotency key, so a second check-in the same day (from any terminal or the mini-program) replays
/// the first answer with <c>Idempotent-Replayed: true</c> and grants nothing.
/// </summary>
internal sealed class CheckIn(MemberTransactions transactions, OrgStore org, ProgrammeConfig programme, TimeProvider time, IOptions<LoyaltyOptions> options)
{
    public async Task<IResult> HandleAsync(HttpContext http, string memberId)
    {
        ArgumentNullException.ThrowIfNull(http);
        var ct = http.RequestAborted;
        var (body, problem) = await JsonBody.ReadAsync<CheckInRequest>(http.Request, options.Value.MaxRequestBodyBytes, ["points", "balances"], ct);
        if (problem is not null)
        {
            return problem;
        }

        var caller = http.Caller();
        var storeId = body!.Value.StoreId ?? caller.ScopeId;
        if (body.Value.StoreId is not null && MemberOperation.CheckStore(caller, await org.GetRequiredAsync(ct), storeId) is { } storeProblem)
        {
            return storeProblem;
        }

        if (MemberOperation.CheckMemberId(memberId) is { } missing)
        {
            return missing;
        }

        var rules = await programme.GetRulesAsync(ct);
        var points = rules.Earning.CheckInPoints;
        if (points <= 0)
        {
            return Problems.From(new DomainError("check_in_disabled", "Check-ins earn nothing in this programme (earning-rules checkInPoints is 0).", ErrorKind.Unprocessable));
        }

        var day = options.Value.LocalDay(time.GetUtcNow()).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var idempotency = new IdempotencyContext("system:check-in", day, "check-in");
        var outcome = await transactions.ExecuteAsync(memberId, idempotency, (account, _) => Task.FromResult<Result<LedgerDecision>>(new WriteDecision(
            new LedgerEntryDraft(LedgerEntryType.Bonus, "bonus.check_in", new LedgerChange(points, 0, 0), storeId, day, rules.Version, null),
            balances => new CheckInReceipt(memberId, day, points, BalancesDto.From(balances)),
            WriteDecision.None)), ct);
        return MemberOperation.ToResult(outcome);
    }
}
