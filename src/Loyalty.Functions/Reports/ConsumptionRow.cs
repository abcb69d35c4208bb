using Loyalty.Storage.Reports;

namespace Loyalty.Functions.Reports;

/// <summary>A consumption report row: a store, region or day of the period, or the total.</summary>
internal sealed record ConsumptionRow(
    string Key,
    string Name,
    long Sales,
    long Visits,
    long Gross,
    long MemberDiscount,
    long CouponDiscount,
    long PointsOffset,
    long Net,
    long Refunds,
    long RefundAmount,
    long NetAfterRefunds,
    long StoredValuePaid,
    long PointsEarned,
    long PointsRedeemed,
    long MemberDaySales,
    long OnlineSales,
    long TopUps,
    long TopUpPrincipal)
{
    public static readonly string[] Headers =
        ["key", "name", "sales", "visits", "gross", "memberDiscount", "couponDiscount", "pointsOffset", "net", "refunds", "refundAmount", "netAfterRefunds", "storedValuePaid", "pointsEarned", "pointsRedeemed", "memberDaySales", "onlineSales", "topUps", "topUpPrincipal"];

    public static ConsumptionRow From(string key, string name, ReportCounters counters)
    {
        ArgumentNullException.ThrowIfNull(counters);
        long V(string n) => counters.Values.GetValueOrDefault(n);
        var net = V("sale.net");
        return new(
            key, name, V("sale.n"), V("sale.visits"), V("sale.gross"), V("sale.memberDiscount"), V("sale.couponDiscount"), V("sale.pointsOffset"), net,
            V("refund.n"), V("refund.amount"), net - V("refund.amount"), -(V("sale.pri") + V("sale.bon")) - V("refund.svPri") - V("refund.svBon"),
            V("sale.earned"), V("sale.redeemed"), V("memberDay.sales"), V("channel.online.n"), V("topUp.n"), V("topUp.pri"));
    }

    /// <summary>The row's cells in <see cref="Headers"/> order.</summary>
    public object?[] Cells() =>
        [Key, Name, Sales, Visits, Gross, MemberDiscount, CouponDiscount, PointsOffset, Net, Refunds, RefundAmount, NetAfterRefunds, StoredValuePaid, PointsEarned, PointsRedeemed, MemberDaySales, OnlineSales, TopUps, TopUpPrincipal];
}
