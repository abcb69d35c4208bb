using Azure.Data.Tables;
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
internal sealed class RefundSale(RefundService service, OrgStore org, IOptions<LoyaltyOptions> options)
{
    private static readonly string[] ServerOwned = ["pointsClawedBack", "cashRefund", "balances", "memberId"];

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

        if (await service.FindAsync(saleId, ct) is not { } sale)
        {
            return Problems.Create(StatusCodes.Status404NotFound, "sale_not_found", $"No sale '{saleId}'.");
        }

        var (memberId, record) = sale;
        var storeId = request.StoreId ?? record.StoreId;
        if (MemberOperation.CheckStore(caller, await org.GetRequiredAsync(ct), storeId) is { } storeProblem)
        {
            return storeProblem;
        }

        var outcome = await service.RefundAsync(memberId, saleId, request, storeId, idempotency, ct);
        return MemberOperation.ToResult(outcome);
    }
}
