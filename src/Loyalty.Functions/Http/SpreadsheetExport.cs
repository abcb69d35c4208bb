using System.Globalization;
using System.Text;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;

namespace Loyalty.Functions.Http;

/// <summary>Exports that open in a spreadsheet (导出EXCEL): CSV with a BOM for Excel, and a real XLSX workbook; numbers stay numbers.</summary>
internal static class SpreadsheetExport
{
    public static byte[] Csv(IReadOnlyList<string> headers, IReadOnlyList<object?[]> rows)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(rows);
        var sb = new StringBuilder();
        sb.AppendJoin(',', headers).Append("\r\n");
        foreach (var row in rows)
        {
            sb.AppendJoin(',', row.Select(Escape)).Append("\r\n");
        }

        // The BOM makes Excel read the file as UTF-8, so Chinese names and notes display correctly.
        return [.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes(sb.ToString())];
    }

    public static byte[] Xlsx(string sheetName, IReadOnlyList<string> headers, IReadOnlyList<object?[]> rows)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(rows);
        using var stream = new MemoryStream();
        using (var document = SpreadsheetDocument.Create(stream, SpreadsheetDocumentType.Workbook))
        {
            var workbook = document.AddWorkbookPart();
            workbook.Workbook = new Workbook();
            var sheetPart = workbook.AddNewPart<WorksheetPart>();
            var data = new SheetData();
            data.Append(Row(headers));
            foreach (var row in rows)
            {
                data.Append(Row(row));
            }

            sheetPart.Worksheet = new Worksheet(data);
            var sheets = workbook.Workbook.AppendChild(new Sheets());
            sheets.Append(new Sheet { Id = workbook.GetIdOfPart(sheetPart), SheetId = 1, Name = sheetName });
            workbook.Workbook.Save();
        }

        return stream.ToArray();
    }

    private static Row Row(IEnumerable<object?> values)
    {
        var row = new Row();
        foreach (var value in values)
        {
            row.Append(value is long or int
                ? new Cell { DataType = CellValues.Number, CellValue = new CellValue(Convert.ToString(value, CultureInfo.InvariantCulture)!) }
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
