using Azure.Data.Tables;
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
internal sealed partial class RecordSale(SaleService service, OrgStore org, IOptions<LoyaltyOptions> options)
{
    internal static readonly string[] ServerOwned = ["gross", "net", "memberDiscount", "couponDiscount", "pointsEarned", "amountDue", "balances", "tier", "status"];

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

        return await service.RecordAsync(request, idempotency, ct) switch
        {
            { Error: { } e } => Problems.From(e),
            { Outcome: { } o } => MemberOperation.ToResult(o),
            _ => throw new InvalidOperationException("No outcome."),
        };
    }

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
