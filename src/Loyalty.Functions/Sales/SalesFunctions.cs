using Loyalty.Functions.Http;
using Microsoft.Azure.Functions.Worker;

namespace Loyalty.Functions.Sales;

/// <summary>The HTTP functions of this area: trigger, route and who may call each; the handlers do the work.</summary>
internal sealed class SalesFunctions(
    global::Loyalty.Functions.Sales.RecordSale recordSale,
    global::Loyalty.Functions.Sales.QuoteSale quoteSale,
    global::Loyalty.Functions.Sales.RefundSale refundSale)
{
    [Function("RecordSale")]
    [ApiKey]
    public Task<IResult> RecordSale([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "sales")] HttpRequest request) =>
        recordSale.HandleAsync(request.HttpContext);

    [Function("QuoteSale")]
    [ApiKey]
    public Task<IResult> QuoteSale([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "sales/quote")] HttpRequest request) =>
        quoteSale.HandleAsync(request.HttpContext);

    [Function("RefundSale")]
    [ApiKey]
    public Task<IResult> RefundSale([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "sales/{saleId}/refunds")] HttpRequest request, string saleId) =>
        refundSale.HandleAsync(request.HttpContext, saleId);
}
