using System.Globalization;
using Loyalty.Functions.Http;

namespace Loyalty.Functions.Ledger;

/// <summary>Ledger exports that open in a spreadsheet (导出EXCEL): CSV and XLSX of the matching entries.</summary>
internal static class LedgerExport
{
    private static readonly string[] Headers =
        ["seq", "at", "type", "reason", "points", "principal", "bonus", "pointsAfter", "principalAfter", "bonusAfter", "storeId", "actor", "reference", "ruleVersion", "note"];

    public static byte[] Csv(IReadOnlyList<LedgerEntryView> rows) => SpreadsheetExport.Csv(Headers, [.. rows.Select(Cells)]);

    public static byte[] Xlsx(IReadOnlyList<LedgerEntryView> rows) => SpreadsheetExport.Xlsx("Ledger", Headers, [.. rows.Select(Cells)]);

    private static object?[] Cells(LedgerEntryView r) =>
    [
        r.Seq, r.At.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture), r.Type, r.Reason,
        r.Points, r.Principal, r.Bonus, r.BalancesAfter.Points, r.BalancesAfter.StoredValue.Principal, r.BalancesAfter.StoredValue.Bonus,
        r.StoreId, r.Actor, r.Reference, r.RuleVersion, r.Note,
    ];
}
