using Loyalty.Domain.Common;
using Loyalty.Domain.Ledger;
using Loyalty.Domain.Members;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Http;
using Loyalty.Functions.Ledger;
using Loyalty.Functions.Programme;
using Loyalty.Storage.Ledger;
using Loyalty.Storage.Members;
using Loyalty.Storage.Tables;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Sales;

/// <summary>
/// Records a sale for a member (by id or card): shared by <c>POST /api/sales</c> and the order events of online shops
/// and POS systems. The request's store and scope have been checked by the caller.
/// </summary>
internal sealed class SaleService(
    MemberTransactions transactions,
    MemberStore members,
    SaleIndex sales,
    ProgrammeConfig programme,
    TimeProvider time,
    IOptions<LoyaltyOptions> options)
{
    /// <summary>Either a refusal found before any write, or the outcome of the member transaction.</summary>
    public async Task<(DomainError? Error, MemberOutcome? Outcome)> RecordAsync(SaleRequest request, IdempotencyContext idempotency, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        var lines = (request.Lines ?? []).Select(l => new SaleLine(l.Sku ?? string.Empty, l.Category ?? string.Empty, l.Quantity, l.UnitPrice)).ToList();
        var memberId = request.MemberId;
        if (request.CardNumber is not null)
        {
            var card = CardNumber.Parse(request.CardNumber);
            if (!card.IsSuccess)
            {
                return (card.Error, null);
            }

            memberId = await members.FindByIndexAsync(MemberStore.CardIndexKey(card.Value.Value), ct);
        }

        if (memberId is null || MemberOperation.CheckMemberId(memberId) is not null)
        {
            return (new DomainError("member_not_found", "No such member.", ErrorKind.NotFound), null);
        }

        var rules = await programme.GetRulesAsync(ct);
        var localNow = TimeZoneInfo.ConvertTime(time.GetUtcNow(), options.Value.ChainTimeZone);
        var memberDay = rules.MemberDayMultiplier(DateOnly.FromDateTime(localNow.DateTime));

        // Checked before the sale id is claimed, so a rejected basket leaves nothing behind.
        var basket = SalePricing.Price(lines, rules.Tiers[0], rules, memberDay, 0, 0, default);
        if (!basket.IsSuccess && basket.Error.Kind == ErrorKind.Validation && basket.Error.Code == "lines_invalid")
        {
            return (basket.Error, null);
        }

        if (await sales.ClaimAsync(request.SaleId!, memberId, ct) != memberId)
        {
            return (new DomainError("sale_id_conflict", $"Sale '{request.SaleId}' belongs to another member.", ErrorKind.Conflict, "saleId"), null);
        }

        var outcome = await transactions.ExecuteAsync(memberId, idempotency, async (account, token) =>
        {
            // First attempt: the sale row's insert fails if the sale exists; a retry reads it.
            var existing = account.IsRetry ? await members.GetRowAsync(memberId, SaleRows.Key(request.SaleId!), token) : null;
            if (existing is not null)
            {
                return existing.GetString("RequestHash") == idempotency.RequestHash
                    ? new ExistingDecision(StatusCodes.Status201Created, existing.Require("Receipt"))
                    : new DomainError("sale_already_recorded", $"Sale '{request.SaleId!}' was recorded with different content.", ErrorKind.Conflict, "saleId");
            }

            var card = await CardChecks.CheckAsync(members, account, request.CardNumber, token);
            if (!card.IsSuccess)
            {
                return card.Error;
            }

            var tier = rules.Tier(account.Tier);
            var quote = SalePricing.Price(lines, tier, rules, memberDay, request.PointsToRedeem ?? 0, request.PayWithStoredValue ?? 0, account.Balances);
            if (!quote.IsSuccess)
            {
                return quote.Error;
            }

            var cardRows = new List<TableTransactionAction>();
            if (card.Value is { } usedCard && quote.Value.StoredValuePaid > 0 && (usedCard.DailyLimit is not null || usedCard.MonthlyLimit is not null))
            {
                var limited = await SpendingLimits.ApplyAsync(members, memberId, usedCard, quote.Value.StoredValuePaid, DateOnly.FromDateTime(localNow.DateTime), token);
                if (!limited.IsSuccess)
                {
                    return limited.Error;
                }

                cardRows.Add(limited.Value);
            }

            var q = quote.Value;
            var record = SaleRecord.From(request.SaleId!, memberId, request.StoreId!, q);
            return new WriteDecision(
                new LedgerEntryDraft(LedgerEntryType.Sale, "sale", q.Change, request.StoreId!, request.SaleId!, rules.Version, null),
                balances => Receipt(request.SaleId!, memberId, request.StoreId!, q, tier.Code, rules.Version, balances),
                body => [new(TableTransactionActionType.Add, SaleRows.ToRow(record, idempotency.RequestHash, body)), .. cardRows]);
        }, ct);
        return (null, outcome);
    }

    private static SaleReceipt Receipt(string saleId, string memberId, string storeId, SaleQuote q, string tier, string ruleVersion, Balances balances) => new(
        saleId,
        memberId,
        storeId,
        [.. q.Lines.Select((l, i) => new ReceiptLine(i, l.Sku, l.Category, l.Quantity, l.UnitPrice, l.Gross, l.Discount, l.Net, l.EarnsPoints))],
        q.Gross,
        q.MemberDiscount,
        q.PointsRedeemed,
        q.PointsOffset,
        new StoredValuePaid(q.StoredValuePrincipal, q.StoredValueBonus, q.StoredValuePaid),
        q.AmountDue,
        q.PointsEarned,
        q.TierMultiplierPercent,
        q.MemberDayMultiplierPercent,
        tier,
        ruleVersion,
        BalancesDto.From(balances));

}
