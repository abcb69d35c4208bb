namespace Loyalty.Functions.Tests.Reports;

/// <summary>Sale bodies of the report tests: one line of tea, optionally paid partly with stored value.</summary>
internal static class ReportSales
{
    public static object Sale(string memberId, string storeId, long unitPrice, int quantity, long payWithStoredValue = 0) => new
    {
        saleId = "S-" + Guid.NewGuid().ToString("N")[..16],
        storeId,
        memberId,
        lines = new[] { new { sku = "TEA", category = "drinks", quantity, unitPrice } },
        payWithStoredValue,
    };
}
