using Azure.Data.Tables;
using System.Text.Json;
using Loyalty.Domain.Common;
using Loyalty.Domain.Members;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Http;
using Loyalty.Functions.Ledger;
using Loyalty.Functions.Members;
using Loyalty.Storage.Ledger;
using Loyalty.Storage.Members;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Cards;

/// <summary>
/// <c>POST /api/members/{memberId}/cards</c>: another card on the same account (linked, supplementary with optional
/// daily/monthly stored-value limits, or group). The number is derived from the member and the Idempotency-Key, so a
/// retry claims the same number.
/// </summary>
internal sealed class IssueCard(MemberTransactions transactions, MemberStore members, TimeProvider time, IOptions<LoyaltyOptions> options)
{
    public async Task<IResult> HandleAsync(HttpContext http, string memberId)
    {
        ArgumentNullException.ThrowIfNull(http);
        var (prepared, problem) = await MemberOperation.PrepareAsync<IssueCardRequest>(http, options.Value.MaxRequestBodyBytes, ["cardNumber", "status"]);
        if (problem is not null)
        {
            return problem;
        }

        var (caller, request, idempotency) = prepared!;
        if (MemberOperation.CheckMemberId(memberId) is { } missing)
        {
            return missing;
        }

        if (request.CardType is not (CardType.Linked or CardType.Supplementary or CardType.Group))
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "card_type_invalid", "cardType is linked, supplementary or group.", "cardType");
        }

        if ((request.DailyLimit ?? request.MonthlyLimit) is not null && request.CardType != CardType.Supplementary)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "limit_invalid", "Only supplementary cards carry spending limits.", "dailyLimit");
        }

        if (request.DailyLimit is < 0 || request.MonthlyLimit is < 0)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "limit_invalid", "Limits are amounts in fen, zero or more.", "dailyLimit");
        }

        if (!await members.ExistsAsync(memberId, http.RequestAborted))
        {
            return Problems.Create(StatusCodes.Status404NotFound, "member_not_found", "No such member.");
        }

        var number = await ClaimNumberAsync(members, memberId, MemberTransactions.IdempotencyRowKey(idempotency), options.Value.CardPrefix, http.RequestAborted);
        var card = new MemberCard(number, request.CardType.Value, CardStatus.Active, time.GetUtcNow(), request.DailyLimit, request.MonthlyLimit);
        var outcome = await transactions.ExecuteAsync(memberId, idempotency, (account, _) =>
            Task.FromResult<Result<LedgerDecision>>(new WriteDecision(
                null,
                _ => CardView.From(card),
                body =>
                [
                    new(TableTransactionActionType.Add, MemberStore.CardRow(memberId, card)),
                    new(TableTransactionActionType.Add, transactions.AuditRow(memberId, caller.Id, "card.issue", number[^4..], null, JsonSerializer.Serialize(new { type = card.Type.ToString(), card.DailyLimit, card.MonthlyLimit }, Storage.Config.ConfigJson.Options))),
                ],
                ActiveCardsDelta: 1)),
            http.RequestAborted);
        return MemberOperation.ToResult(outcome);
    }

    /// <summary>Claims a card number derived from <paramref name="seed"/>, moving on after collisions with other members' cards.</summary>
    internal static async Task<string> ClaimNumberAsync(MemberStore members, string memberId, string seed, string prefix, CancellationToken cancellationToken)
    {
        for (var salt = 0; salt < 8; salt++)
        {
            var candidate = CardNumber.FromSeed(prefix, memberId + seed, salt).Value;
            if (await members.ClaimIndexAsync(MemberStore.CardIndexKey(candidate), memberId, cancellationToken) == memberId)
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("No free card number after 8 attempts.");
    }
}
