using Loyalty.Functions.Hosting;
using Loyalty.Functions.Http;
using Loyalty.Functions.Ledger;
using Loyalty.Storage.Org;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Sales;

/// <summary>
/// <c>POST /api/sales/quote</c>: the dry run of a sale. Same body as <c>POST /api/sales</c> (saleId optional, member
/// optional); answers 200 with the receipt the sale would produce and the tier it would reach, and writes nothing.
/// </summary>
internal sealed class QuoteSale(SaleService service, OrgStore org, IOptions<LoyaltyOptions> options)
{
    public async Task<IResult> HandleAsync(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var ct = http.RequestAborted;
        var (body, problem) = await JsonBody.ReadAsync<SaleRequest>(http.Request, options.Value.MaxRequestBodyBytes, RecordSale.ServerOwned, ct);
        if (problem is not null)
        {
            return problem;
        }

        var request = body!.Value;
        if (MemberOperation.CheckStore(http.Caller(), await org.GetRequiredAsync(ct), request.StoreId) is { } storeProblem)
        {
            return storeProblem;
        }

        if (request.MemberId is not null && request.CardNumber is not null)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "member_reference_invalid", "Name the member by at most one of memberId or cardNumber.", "memberId");
        }

        var quote = await service.QuoteAsync(request, ct);
        return quote.IsSuccess ? TypedResults.Ok(quote.Value) : Problems.From(quote.Error);
    }
}
