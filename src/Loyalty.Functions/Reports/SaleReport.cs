using System.Globalization;
using Loyalty.Domain.Ledger;
using Loyalty.Storage.Reports;

namespace Loyalty.Functions.Reports;

/// <summary>Where a sale was made: at a store's till, or in an online shop (order webhooks).</summary>
internal static class SaleChannels
{
    public const string Store = "store";
    public const string Online = "online";
}

/// <summary>The report counters of sales and refunds beyond their ledger entries.</summary>
internal static class SaleReport
{
    /// <summary>
    /// A sale's amounts (gross, discounts, net, amount due, points earned and redeemed), its channel with the stored
    /// value it spent, whether it is the member's first purchase ever or of the day (visits), and member-day use: a
    /// member's first purchase on a day the member-day multiplier applied counts once as the member-day benefit used.
    /// </summary>
    public static ReportCounters Counters(SaleQuote q, string channel, string? lastPurchase, DateOnly today)
    {
        ArgumentNullException.ThrowIfNull(q);
        var firstToday = lastPurchase != today.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var memberDay = q.MemberDayMultiplierPercent > 100;
        return new ReportCounters()
            .Add("sale.gross", q.Gross)
            .Add("sale.memberDiscount", q.MemberDiscount)
            .Add("sale.couponDiscount", q.CouponDiscount)
            .Add("sale.pointsOffset", q.PointsOffset)
            .Add("sale.net", q.Net)
            .Add("sale.due", q.AmountDue)
            .Add("sale.earned", q.PointsEarned)
            .Add("sale.redeemed", q.PointsRedeemed)
            .Add("sale.visits", firstToday ? 1 : 0)
            .Add("sale.firstEver", lastPurchase is null ? 1 : 0)
            .Add("channel." + channel + ".n", 1)
            .Add("channel." + channel + ".net", q.Net)
            .Add("svSpend." + channel + ".pri", q.StoredValuePrincipal)
            .Add("svSpend." + channel + ".bon", q.StoredValueBonus)
            .Add("memberDay.sales", memberDay ? 1 : 0)
            .Add("benefit.memberDay.used", memberDay && firstToday ? 1 : 0);
    }

    /// <summary>A refund's amount (net of the sale refunded), and the stored value it gave back.</summary>
    public static ReportCounters Refund(long amount, long principal, long bonus) =>
        new ReportCounters().Add("refund.amount", amount).Add("refund.svPri", principal).Add("refund.svBon", bonus);
}
