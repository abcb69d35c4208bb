using System.Text;

namespace Loyalty.Functions.Batches;

/// <summary>What a pass over a batch file found: data rows, valid rows, and the errors of the others (the first <see cref="BatchCheck.MaxErrorsListed"/>).</summary>
internal sealed record BatchCheckResult(int Rows, int Valid, int Invalid, IReadOnlyList<BatchError> Errors, bool ErrorsTruncated, string Encoding);

/// <summary>
/// One pass over a stored batch file: reads the header, checks every row with the kind's rules, and hands each valid
/// row to <c>onValid</c> (the staging writes chunks from there). Nothing else is written.
/// </summary>
internal static class BatchCheck
{
    /// <summary>Errors listed in an answer or a report of the checks; the counts cover all of them.</summary>
    public const int MaxErrorsListed = 10_000;

    public static async Task<BatchCheckResult> RunAsync(
        BatchStore store,
        string blob,
        BatchFormat format,
        Encoding? charset,
        BatchKind kind,
        BatchCheckContext context,
        string principalId,
        int maxRows,
        Func<object, Task>? onValid,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(context);
        var encoding = format == BatchFormat.Csv ? await BatchFile.DetectEncodingAsync(ct => store.OpenAsync(blob, ct), charset, cancellationToken) : null;
        await using var stream = await store.OpenAsync(blob, cancellationToken);
        var rows = format == BatchFormat.Csv ? BatchFile.ReadCsv(stream, encoding!) : BatchFile.ReadXlsx(stream);
        Dictionary<string, int>? columns = null;
        int count = 0, valid = 0, invalid = 0;
        var errors = new List<BatchError>();
        foreach (var row in rows)
        {
            if (columns is null)
            {
                columns = BatchRows.Header(kind, row);
                continue;
            }

            if (++count > maxRows)
            {
                throw new BatchFileException(StatusCodes.Status400BadRequest, "batch_too_many_rows", $"A batch has at most {maxRows:N0} rows.");
            }

            var (checkedRow, rowErrors) = kind == BatchKind.Members
                ? Box(BatchRows.CheckMember(row, columns, context))
                : Box(BatchRows.CheckTopUp(row, columns, context, principalId));
            if (checkedRow is null)
            {
                invalid++;
                foreach (var error in rowErrors.Take(Math.Max(0, MaxErrorsListed - errors.Count)))
                {
                    errors.Add(error);
                }

                continue;
            }

            valid++;
            if (onValid is not null)
            {
                await onValid(checkedRow);
            }
        }

        if (columns is null)
        {
            throw new BatchFileException(StatusCodes.Status400BadRequest, "header_invalid", $"The file is empty: the first row names the columns ({string.Join(", ", BatchRows.Columns(kind))}).");
        }

        return new BatchCheckResult(count, valid, invalid, errors, invalid > 0 && errors.Count >= MaxErrorsListed, encoding?.WebName ?? "xlsx");
    }

    private static (object? Row, IReadOnlyList<BatchError> Errors) Box<T>((T? Row, IReadOnlyList<BatchError> Errors) result)
        where T : class => (result.Row, result.Errors);
}
