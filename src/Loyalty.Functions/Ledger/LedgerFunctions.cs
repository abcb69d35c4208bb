using Loyalty.Functions.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Loyalty.Functions.Ledger;

/// <summary>The HTTP functions of this area: trigger, route and who may call each; the handlers do the work.</summary>
internal sealed class LedgerFunctions(
    global::Loyalty.Functions.Ledger.Redeem redeem,
    global::Loyalty.Functions.Ledger.CheckIn checkIn,
    global::Loyalty.Functions.Ledger.Adjust adjust,
    global::Loyalty.Storage.Members.MemberStore memberStore,
    global::Loyalty.Storage.Ledger.LedgerQuery ledgerQuery,
    global::Microsoft.Extensions.Options.IOptions<global::Loyalty.Functions.Hosting.LoyaltyOptions> options)
{
    [Function("Redeem")]
    [ApiKey]
    public Task<IResult> Redeem([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "members/{memberId}/redemptions")] HttpRequest request, string memberId) =>
        redeem.HandleAsync(request.HttpContext, memberId);

    [Function("CheckIn")]
    [ApiKey]
    public Task<IResult> CheckIn([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "members/{memberId}/check-ins")] HttpRequest request, string memberId) =>
        checkIn.HandleAsync(request.HttpContext, memberId);

    [Function("AdjustPoints")]
    [ApiKey]
    public Task<IResult> AdjustPoints([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "members/{memberId}/adjustments")] HttpRequest request, [DurableClient] DurableTaskClient durable, string memberId) =>
        adjust.HandleAsync(request.HttpContext, memberId);

    [Function("GetLedger")]
    [ApiKey]
    public Task<IResult> GetLedger([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "members/{memberId}/ledger")] HttpRequest request, string memberId) =>
        global::Loyalty.Functions.Ledger.LedgerApi.Handle(request.HttpContext, memberId, memberStore, ledgerQuery, options);
}
