using System.Text.Json;
using System.Text.RegularExpressions;
using Loyalty.Domain.Common;
using Loyalty.Domain.Ledger;
using Loyalty.Domain.Members;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Http;
using Loyalty.Functions.Ledger;
using Loyalty.Functions.Programme;
using Loyalty.Storage.Config;
using Loyalty.Storage.Ledger;
using Loyalty.Storage.Members;
using Loyalty.Storage.Org;
using Loyalty.Storage.Tables;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Sales;

/// <summary>
/// <c>POST /api/sales</c>: prices the basket with the member's tier discount, takes any points offset and stored-value
/// payment, earns points, and records the sale for refunds, all in one transaction of the member's partition. The
/// sale id is unique: the same sale sent again (any key) answers with its first receipt.
/// </summary>
internal sealed partial class RecordSale(
    MemberTransactions transactions,
    MemberStore members,
    SaleIndex sales,
    OrgStore org,
    ProgrammeConfig programme,
    TimeProvider time,
    IOptions<LoyaltyOptions> options)
{
    private static readonly string[] ServerOwned = ["gross", "memberDiscount", "pointsEarned", "amountDue", "balances", "tier", "status"];

    public static Task<IResult> Handle(HttpContext http, RecordSale handler) => handler.HandleAsync(http);

    public async Task<IResult> HandleAsync(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var ct = http.RequestAborted;
        var (prepared, problem) = await MemberOperation.PrepareAsync<SaleRequest>(http, options.Value.MaxRequestBodyBytes, ServerOwned);
        if (problem is not null)
        {
            return problem;
        }

        var (caller, request, idempotency) = prepared!;
        if (request.SaleId is null || !IdPattern().IsMatch(request.SaleId))
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "sale_id_invalid", "saleId is 1-64 characters of letters, digits, '.', '_' or '-'.", "saleId");
        }

        if (MemberOperation.CheckStore(caller, await org.GetRequiredAsync(ct), request.StoreId) is { } storeProblem)
        {
            return storeProblem;
        }

        if ((request.MemberId is null) == (request.CardNumber is null))
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "member_reference_invalid", "Name the member by exactly one of memberId or cardNumber.", "memberId");
        }

        var lines = (request.Lines ?? []).Select(l => new SaleLine(l.Sku ?? string.Empty, l.Category ?? string.Empty, l.Quantity, l.UnitPrice)).ToList();
        var memberId = request.MemberId;
        if (request.CardNumber is not null)
        {
            var card = CardNumber.Parse(request.CardNumber);
            if (!card.IsSuccess)
            {
                return Problems.From(card.Error);
            }

            memberId = await members.FindByIndexAsync(MemberStore.CardIndexKey(card.Value.Value), ct);
        }

        if (memberId is null || MemberOperation.CheckMemberId(memberId) is not null)
        {
            return Problems.Create(StatusCodes.Status404NotFound, "member_not_found", "No such member.");
        }

        var rules = await programme.GetRulesAsync(ct);
        var localNow = TimeZoneInfo.ConvertTime(time.GetUtcNow(), options.Value.ChainTimeZone);
        var memberDay = rules.MemberDayMultiplier(DateOnly.FromDateTime(localNow.DateTime));

        // Checked before the sale id is claimed, so a rejected basket leaves nothing behind.
        var basket = SalePricing.Price(lines, rules.Tiers[0], rules, memberDay, 0, 0, default);
        if (!basket.IsSuccess && basket.Error.Kind == ErrorKind.Validation && basket.Error.Code == "lines_invalid")
        {
            return Problems.From(basket.Error);
        }

        if (await sales.ClaimAsync(request.SaleId, memberId, ct) != memberId)
        {
            return Problems.Create(StatusCodes.Status409Conflict, "sale_id_conflict", $"Sale '{request.SaleId}' belongs to another member.", "saleId");
        }

        var outcome = await transactions.ExecuteAsync(memberId, idempotency, async (account, token) =>
        {
            // First attempt: the sale row's insert fails if the sale exists; a retry reads it.
            var existing = account.IsRetry ? await members.GetRowAsync(memberId, SaleRows.Key(request.SaleId), token) : null;
            if (existing is not null)
            {
                return existing.GetString("RequestHash") == idempotency.RequestHash
                    ? new ExistingDecision(StatusCodes.Status201Created, existing.Require("Receipt"))
                    : new DomainError("sale_already_recorded", $"Sale '{request.SaleId}' was recorded with different content.", ErrorKind.Conflict, "saleId");
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
            var record = SaleRecord.From(request.SaleId, memberId, request.StoreId!, q);
            return new WriteDecision(
                new LedgerEntryDraft(LedgerEntryType.Sale, "sale", q.Change, request.StoreId!, request.SaleId, rules.Version, null),
                balances => Receipt(request.SaleId, memberId, request.StoreId!, q, tier.Code, rules.Version, balances),
                body => [new(TableTransactionActionType.Add, SaleRows.ToRow(record, idempotency.RequestHash, body)), .. cardRows]);
        }, ct);
        return MemberOperation.ToResult(outcome);
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

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    internal static partial Regex IdPattern();
}

/// <summary>Sale and refund rows of the member partition.</summary>
internal static class SaleRows
{
    public static string Key(string saleId) => "sale-" + saleId;

    public static string RefundKey(string saleId, string refundId) => $"refund-{saleId}-{refundId}";

    public static TableEntity ToRow(SaleRecord record, string requestHash, string receipt) => new(record.MemberId, Key(record.SaleId))
    {
        ["Record"] = JsonSerializer.Serialize(record, ConfigJson.Options),
        ["RequestHash"] = requestHash,
        ["Receipt"] = receipt,
    };

    public static SaleRecord FromRow(TableEntity row) =>
        JsonSerializer.Deserialize<SaleRecord>(row.Require("Record"), ConfigJson.Options) ?? throw new InvalidDataException("Empty sale record.");
}
