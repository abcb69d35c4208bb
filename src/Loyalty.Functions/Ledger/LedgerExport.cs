using System.Globalization;
using System.Text;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;

namespace Loyalty.Functions.Ledger;

/// <summary>Ledger exports that open in a spreadsheet (导出EXCEL): CSV with a BOM for Excel, and a real XLSX workbook.</summary>
internal static class LedgerExport
{
    private static readonly string[] Headers =
        ["seq", "at", "type", "reason", "points", "principal", "bonus", "pointsAfter", "principalAfter", "bonusAfter", "storeId", "actor", "reference", "ruleVersion", "note"];

    public static byte[] Csv(IReadOnlyList<LedgerEntryView> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var sb = new StringBuilder();
        sb.AppendJoin(',', Headers).Append("\r\n");
        foreach (var row in rows)
        {
            sb.AppendJoin(',', Cells(row).Select(Escape)).Append("\r\n");
        }

        // The BOM makes Excel read the file as UTF-8, so Chinese notes display correctly.
        return [.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes(sb.ToString())];
    }

    public static byte[] Xlsx(IReadOnlyList<LedgerEntryView> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        using var stream = new MemoryStream();
        using (var document = SpreadsheetDocument.Create(stream, SpreadsheetDocumentType.Workbook))
        {
            var workbook = document.AddWorkbookPart();
            workbook.Workbook = new Workbook();
            var sheetPart = workbook.AddNewPart<WorksheetPart>();
            var data = new SheetData();
            data.Append(Row(Headers.Select(h => (object?)h)));
            foreach (var row in rows)
            {
                data.Append(Row(Cells(row)));
            }

            sheetPart.Worksheet = new Worksheet(data);
            var sheets = workbook.Workbook.AppendChild(new Sheets());
            sheets.Append(new Sheet { Id = workbook.GetIdOfPart(sheetPart), SheetId = 1, Name = "Ledger" });
            workbook.Workbook.Save();
        }

        return stream.ToArray();
    }

    private static object?[] Cells(LedgerEntryView r) =>
    [
        r.Seq, r.At.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture), r.Type, r.Reason,
        r.Points, r.Principal, r.Bonus, r.BalancesAfter.Points, r.BalancesAfter.StoredValue.Principal, r.BalancesAfter.StoredValue.Bonus,
        r.StoreId, r.Actor, r.Reference, r.RuleVersion, r.Note,
    ];

    private static Row Row(IEnumerable<object?> values)
    {
        var row = new Row();
        foreach (var value in values)
        {
            row.Append(value is long number
                ? new Cell { DataType = CellValues.Number, CellValue = new CellValue(number.ToString(CultureInfo.InvariantCulture)) }
                : new Cell { DataType = CellValues.InlineString, InlineString = new InlineString(new Text(Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty)) });
        }

        return row;
    }

    private static string Escape(object? value)
    {
        var text = Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty;

        // Cells starting with = + - @ are neutralised so a spreadsheet does not run them as formulas.
        if (text.Length > 0 && value is string && "=+-@".Contains(text[0], StringComparison.Ordinal))
        {
            text = "'" + text;
        }

        return text.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : text;
    }
}
