using System.Globalization;
using System.IO.Compression;
using System.Text;
using Sylvan.Data.Csv;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;

namespace Loyalty.Functions.Batches;

/// <summary>The two kinds of file a batch is uploaded as.</summary>
internal enum BatchFormat
{
    /// <summary><c>text/csv</c>: UTF-8 with or without a BOM, or GB18030 (as Chinese spreadsheet tools save CSV).</summary>
    Csv,

    /// <summary><c>application/vnd.openxmlformats-officedocument.spreadsheetml.sheet</c>: the first worksheet.</summary>
    Xlsx,
}

/// <summary>A file that cannot be read as a batch at all: the whole upload is refused with this code and status.</summary>
internal sealed class BatchFileException(int status, string code, string message) : Exception(message)
{
    public int Status { get; } = status;

    public string Code { get; } = code;
}

/// <summary>One row of a batch file: its row number in the file (the header is row 1) and its cells, by column.</summary>
internal sealed record BatchFileRow(int Row, IReadOnlyList<string> Cells, IReadOnlySet<int> Formulas);

/// <summary>
/// Reads batch files row by row without loading them whole: CSV through Sylvan's CSV reader in the detected encoding,
/// XLSX through the Open XML SDK's streaming reader, after checking that the archive is not a zip bomb.
/// </summary>
internal static class BatchFile
{
    /// <summary>The media type of XLSX files.</summary>
    public const string XlsxMediaType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

    /// <summary>Most bytes an XLSX file may unpack to, and the highest packing ratio of any of its parts.</summary>
    public const long MaxUnpackedBytes = 256L * 1024 * 1024;

    private const int MaxRatio = 100;

    /// <summary>Strict UTF-8: invalid bytes are an error, not a replacement character.</summary>
    public static Encoding Utf8 { get; } = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Strict GB18030 (GBK and GB2312 files are GB18030 too).</summary>
    public static Encoding Gb18030 { get; } = CodePage("GB18030");

    private static Encoding CodePage(string name)
    {
        // The code-page encodings ship with .NET but are registered on demand (before any static property reads them).
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        return Encoding.GetEncoding(name, EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback);
    }

    /// <summary>The format and declared charset of an upload from its Content-Type; an error for anything else.</summary>
    public static (BatchFormat Format, Encoding? Charset) Describe(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType) || !Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var media))
        {
            throw new BatchFileException(StatusCodes.Status415UnsupportedMediaType, "unsupported_media_type", $"Send the file as text/csv or {XlsxMediaType}.");
        }

        var type = media.MediaType.Value ?? string.Empty;
        if (type.Equals(XlsxMediaType, StringComparison.OrdinalIgnoreCase))
        {
            return (BatchFormat.Xlsx, null);
        }

        if (!type.Equals("text/csv", StringComparison.OrdinalIgnoreCase))
        {
            throw new BatchFileException(StatusCodes.Status415UnsupportedMediaType, "unsupported_media_type", $"Send the file as text/csv or {XlsxMediaType}, not {type}.");
        }

        var charset = media.Charset.Value?.Trim('"').ToUpperInvariant();
        return (BatchFormat.Csv, charset switch
        {
            null or "" => null,
            "UTF-8" or "UTF8" => Utf8,
            "GB18030" or "GBK" or "GB2312" => Gb18030,
            _ => throw new BatchFileException(StatusCodes.Status415UnsupportedMediaType, "encoding_unsupported", $"A CSV file is UTF-8 or GB18030, not {charset}."),
        });
    }

    /// <summary>
    /// The encoding of a CSV file: the declared one if any, after checking the whole file decodes in it; otherwise
    /// UTF-8 if the file is valid UTF-8 (with or without a BOM), else GB18030 if it is valid GB18030; else an error.
    /// </summary>
    public static async Task<Encoding> DetectEncodingAsync(Func<CancellationToken, Task<Stream>> open, Encoding? declared, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(open);
        foreach (var candidate in declared is null ? [Utf8, Gb18030] : new[] { declared })
        {
            await using var stream = await open(cancellationToken);
            if (await DecodesAsync(stream, candidate, cancellationToken))
            {
                return candidate;
            }
        }

        throw new BatchFileException(StatusCodes.Status400BadRequest, "encoding_invalid",
            declared is null ? "The file is neither UTF-8 nor GB18030 text." : $"The file is not valid {declared.WebName} text.");
    }

    private static async Task<bool> DecodesAsync(Stream stream, Encoding encoding, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(stream, encoding, detectEncodingFromByteOrderMarks: false, bufferSize: 64 * 1024, leaveOpen: true);
        var buffer = new char[64 * 1024];
        try
        {
            while (await reader.ReadAsync(buffer, cancellationToken) > 0)
            {
                // Decoding is the check.
            }

            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }

    /// <summary>The rows of a CSV file in <paramref name="encoding"/>, header first; a UTF-8 BOM is skipped.</summary>
    public static IEnumerable<BatchFileRow> ReadCsv(Stream stream, Encoding encoding)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var reader = new StreamReader(stream, encoding, detectEncodingFromByteOrderMarks: ReferenceEquals(encoding, Utf8), leaveOpen: true);
        using var csv = CsvDataReader.Create(reader, new CsvDataReaderOptions { HasHeaders = false, Delimiter = ',', MaxBufferSize = 1024 * 1024 });
        var row = 0;
        while (csv.Read())
        {
            row++;
            var cells = new string[csv.RowFieldCount];
            for (var i = 0; i < cells.Length; i++)
            {
                cells[i] = csv.GetString(i);
            }

            if (cells.All(string.IsNullOrWhiteSpace))
            {
                continue;
            }

            yield return new BatchFileRow(row, cells, NoFormulas);
        }
    }

    private static readonly IReadOnlySet<int> NoFormulas = new HashSet<int>();

    /// <summary>
    /// Refuses an XLSX archive that unpacks to more than <see cref="MaxUnpackedBytes"/> or packs any part more than
    /// 100 to 1 (a zip bomb), before the Open XML SDK opens it.
    /// </summary>
    public static void CheckArchive(Stream seekable)
    {
        ArgumentNullException.ThrowIfNull(seekable);
        try
        {
            using var zip = new ZipArchive(seekable, ZipArchiveMode.Read, leaveOpen: true);
            long total = 0;
            foreach (var entry in zip.Entries)
            {
                total += entry.Length;
                if (total > MaxUnpackedBytes || (entry.Length > 1024 * 1024 && entry.Length > MaxRatio * Math.Max(1, entry.CompressedLength)))
                {
                    throw new BatchFileException(StatusCodes.Status400BadRequest, "file_unsafe",
                        $"The workbook unpacks to more than {MaxUnpackedBytes / (1024 * 1024)} MiB or packs a part more than {MaxRatio} to 1; it is refused unread.");
                }
            }
        }
        catch (InvalidDataException)
        {
            throw new BatchFileException(StatusCodes.Status400BadRequest, "file_unreadable", "The file is not an XLSX workbook (not a zip archive).");
        }
        finally
        {
            seekable.Position = 0;
        }
    }

    /// <summary>The rows of the first worksheet of an XLSX workbook, header first; cells holding a formula are marked.</summary>
    public static IEnumerable<BatchFileRow> ReadXlsx(Stream seekable)
    {
        ArgumentNullException.ThrowIfNull(seekable);
        CheckArchive(seekable);
        SpreadsheetDocument document;
        try
        {
            document = SpreadsheetDocument.Open(seekable, isEditable: false);
        }
        catch (Exception ex) when (ex is OpenXmlPackageException or InvalidDataException or FileFormatException)
        {
            throw new BatchFileException(StatusCodes.Status400BadRequest, "file_unreadable", "The file is not an XLSX workbook.");
        }

        using (document)
        {
            var workbook = document.WorkbookPart ?? throw new BatchFileException(StatusCodes.Status400BadRequest, "file_unreadable", "The workbook has no sheets.");
            var first = workbook.Workbook.Sheets?.Elements<Sheet>().FirstOrDefault()?.Id?.Value;
            if (first is null || workbook.GetPartById(first) is not WorksheetPart sheet)
            {
                throw new BatchFileException(StatusCodes.Status400BadRequest, "file_unreadable", "The workbook has no worksheet.");
            }

            var shared = workbook.SharedStringTablePart?.SharedStringTable?.Elements<SharedStringItem>().Select(i => i.InnerText).ToArray() ?? [];
            using var reader = OpenXmlReader.Create(sheet);
            while (reader.Read())
            {
                if (reader.ElementType != typeof(Row) || !reader.IsStartElement)
                {
                    continue;
                }

                var row = (Row)reader.LoadCurrentElement()!;
                var cells = new List<string>();
                var formulas = new HashSet<int>();
                foreach (var cell in row.Elements<Cell>())
                {
                    var column = cell.CellReference?.Value is { } reference ? ColumnIndex(reference) : cells.Count;
                    while (cells.Count <= column)
                    {
                        cells.Add(string.Empty);
                    }

                    if (cell.CellFormula is not null)
                    {
                        formulas.Add(column);
                    }

                    cells[column] = Text(cell, shared);
                }

                if (cells.All(string.IsNullOrWhiteSpace))
                {
                    continue;
                }

                yield return new BatchFileRow((int)(row.RowIndex?.Value ?? 0), cells, formulas);
            }
        }
    }

    private static string Text(Cell cell, string[] shared)
    {
        if (cell.DataType?.Value == CellValues.SharedString)
        {
            return int.TryParse(cell.CellValue?.Text, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < shared.Length ? shared[index] : string.Empty;
        }

        if (cell.DataType?.Value == CellValues.InlineString)
        {
            return cell.InlineString?.InnerText ?? string.Empty;
        }

        return cell.CellValue?.Text ?? string.Empty;
    }

    /// <summary>The 0-based column of a cell reference such as <c>C12</c>.</summary>
    public static int ColumnIndex(string reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var column = 0;
        foreach (var c in reference.TakeWhile(char.IsAsciiLetter))
        {
            column = (column * 26) + (char.ToUpperInvariant(c) - 'A' + 1);
        }

        return Math.Max(0, column - 1);
    }

    /// <summary>
    /// True when a cell would run as a formula if the file were opened in a spreadsheet (CSV injection): it starts with
    /// <c>=</c> or <c>@</c>, a tab or a carriage return, or with <c>+</c> or <c>-</c> not followed by a number.
    /// </summary>
    public static bool LooksLikeFormula(string cell)
    {
        ArgumentNullException.ThrowIfNull(cell);
        if (cell.Length == 0)
        {
            return false;
        }

        return cell[0] switch
        {
            '=' or '@' or '\t' or '\r' => true,
            '+' or '-' => !decimal.TryParse(cell.AsSpan(1), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out _),
            _ => false,
        };
    }
}
