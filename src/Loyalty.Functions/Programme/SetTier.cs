using Azure.Data.Tables;
using System.Text.Json;
using Loyalty.Domain.Common;
using Loyalty.Domain.Programme;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Http;
using Loyalty.Functions.Ledger;
using Loyalty.Storage.Config;
using Loyalty.Storage.Ledger;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Programme;

/// <summary>Body of <c>PUT /api/members/{memberId}/tier</c>.</summary>
internal sealed record SetTierRequest(string? Tier, string? Reason, bool? Floor);

/// <summary>The answer.</summary>
internal sealed record SetTierReceipt(string MemberId, string From, string Tier, string? Floor, string Reason);

/// <summary>
/// A manually granted tier (HQ admins, ops; Idempotency-Key): sets the member's tier and, unless <c>floor</c> is false,
/// makes it the floor that the period-end evaluation does not go below. Audited in the same transaction.
/// </summary>
internal sealed class SetTier(MemberTransactions transactions, ProgrammeConfig programme, TableStore store, IOptions<LoyaltyOptions> options)
{
    public async Task<IResult> HandleAsync(HttpContext http, string memberId)
    {
        ArgumentNullException.ThrowIfNull(http);
        var ct = http.RequestAborted;
        var (prepared, problem) = await MemberOperation.PrepareAsync<SetTierRequest>(http, options.Value.MaxRequestBodyBytes, ["memberId", "from"]);
        if (problem is not null)
        {
            return problem;
        }

        var (caller, request, idempotency) = prepared!;
        if (MemberOperation.CheckMemberId(memberId) is { } missing)
        {
            return missing;
        }

        var rules = await programme.GetRulesAsync(ct);
        if (request.Tier is null || TierProgress.IndexOf(rules.Tiers, request.Tier) < 0)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "tier_unknown", $"tier is one of {string.Join(", ", rules.Tiers.Select(t => t.Code))}.", "tier");
        }

        var reason = request.Reason?.Trim();
        if (string.IsNullOrEmpty(reason) || reason.Length > 200)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "reason_required", "Say why the tier is set by hand (up to 200 characters).", "reason");
        }

        var floor = request.Floor ?? true;
        if (TierProgress.IndexOf(rules.Tiers, request.Tier) > 0)
        {
            await store.Schedules.UpsertEntityAsync(new TableEntity(TierEvaluation.Partition, memberId), TableUpdateMode.Replace, cancellationToken: ct);
        }

        var outcome = await transactions.ExecuteAsync(memberId, idempotency, (account, _) => Task.FromResult<Result<LedgerDecision>>(new WriteDecision(
            null,
            _ => new SetTierReceipt(memberId, account.Tier, request.Tier, floor ? request.Tier : null, reason),
            _ => [new(TableTransactionActionType.Add, transactions.AuditRow(
                memberId, caller.Id, "tier.set", memberId, account.Tier, JsonSerializer.Serialize(new { tier = request.Tier, floor, reason }, ConfigJson.Options)))])
        {
            Tier = request.Tier,
            TierFloor = floor ? request.Tier : string.Empty,
            Status = StatusCodes.Status200OK,
        }), ct);
        return MemberOperation.ToResult(outcome);
    }
}
