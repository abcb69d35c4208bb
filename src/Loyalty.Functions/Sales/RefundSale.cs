using Loyalty.Domain.Common;
using Loyalty.Domain.Ledger;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Http;
using Loyalty.Functions.Ledger;
using Loyalty.Storage.Ledger;
using Loyalty.Storage.Members;
using Loyalty.Storage.Org;
using Loyalty.Storage.Tables;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Sales;

/// <summary>
/// <c>POST /api/sales/{saleId}/refunds</c>: full, by lines or by amount; several partial refunds up to the sale and
/// never beyond. Earned points are clawed back in proportion (this may overdraw points; later earnings repay it),
/// redeemed points and stored value go back to where they came from. The refund id makes it idempotent too.
/// </summary>
internal sealed class RefundSale(MemberTransactions transactions, MemberStore members, SaleIndex sales, OrgStore org, IOptions<LoyaltyOptions> options)
{
    private static readonly string[] ServerOwned = ["pointsClawedBack", "cashRefund", "balances", "memberId"];

    public static Task<IResult> Handle(HttpContext http, string saleId, RefundSale handler) => handler.HandleAsync(http, saleId);

    public async Task<IResult> HandleAsync(HttpContext http, string saleId)
    {
        ArgumentNullException.ThrowIfNull(http);
        var ct = http.RequestAborted;
        var (prepared, problem) = await MemberOperation.PrepareAsync<RefundRequest>(http, options.Value.MaxRequestBodyBytes, ServerOwned);
        if (problem is not null)
        {
            return problem;
        }

        var (caller, request, idempotency) = prepared!;
        if (request.RefundId is null || !RecordSale.IdPattern().IsMatch(request.RefundId))
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "refund_id_invalid", "refundId is 1-64 characters of letters, digits, '.', '_' or '-'.", "refundId");
        }

        var memberId = RecordSale.IdPattern().IsMatch(saleId) ? await sales.FindAsync(saleId, ct) : null;
        var saleRow = memberId is null ? null : await members.GetRowAsync(memberId, SaleRows.Key(saleId), ct);
        if (memberId is null || saleRow is null)
        {
            return Problems.Create(StatusCodes.Status404NotFound, "sale_not_found", $"No sale '{saleId}'.");
        }

        var storeId = request.StoreId ?? SaleRows.FromRow(saleRow).StoreId;
        if (MemberOperation.CheckStore(caller, await org.GetRequiredAsync(ct), storeId) is { } storeProblem)
        {
            return storeProblem;
        }

        var lines = request.Lines?.Select(l => new RefundLine(l.Line, l.Quantity)).ToList();
        var outcome = await transactions.ExecuteAsync(memberId, idempotency, async (account, token) =>
        {
            var earlier = account.IsRetry ? await members.GetRowAsync(memberId, SaleRows.RefundKey(saleId, request.RefundId), token) : null;
            if (earlier is not null)
            {
                return earlier.GetString("RequestHash") == idempotency.RequestHash
                    ? new ExistingDecision(StatusCodes.Status201Created, earlier.Require("Receipt"))
                    : new DomainError("refund_id_reused", $"Refund '{request.RefundId}' of this sale was recorded with different content.", ErrorKind.Conflict, "refundId");
            }

            var row = await members.GetRowAsync(memberId, SaleRows.Key(saleId), token) ?? throw new InvalidOperationException("The sale row vanished.");
            var refund = RefundCalculator.Refund(SaleRows.FromRow(row), lines, request.Amount);
            if (!refund.IsSuccess)
            {
                return refund.Error;
            }

            var r = refund.Value;
            return new WriteDecision(
                new LedgerEntryDraft(LedgerEntryType.Refund, "refund", r.Change, storeId, $"{saleId}/{request.RefundId}", null, null),
                balances => new RefundReceipt(
                    saleId, request.RefundId, memberId, storeId, r.Amount, r.PointsClawedBack, r.PointsRestored,
                    new StoredValuePaid(r.PrincipalRestored, r.BonusRestored, r.PrincipalRestored + r.BonusRestored), r.CashRefund, r.Sale.Refundable,
                    BalancesDto.From(balances)),
                body =>
                [
                    new(TableTransactionActionType.UpdateReplace, SaleRows.ToRow(r.Sale, row.GetString("RequestHash")!, row.Require("Receipt")), row.ETag),
                    new(TableTransactionActionType.Add, new TableEntity(memberId, SaleRows.RefundKey(saleId, request.RefundId))
                    {
                        ["RequestHash"] = idempotency.RequestHash,
                        ["Receipt"] = body,
                    }),
                ]);
        }, ct);
        return MemberOperation.ToResult(outcome);
    }
}
