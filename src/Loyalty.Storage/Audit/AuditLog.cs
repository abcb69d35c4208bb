using Azure.Data.Tables;
using System.Globalization;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;

namespace Loyalty.Storage.Audit;

/// <summary>
/// Append-only audit trail, one partition per UTC month, newest first inside it (row keys are inverted ticks).
/// </summary>
public sealed class AuditLog(TableStore store)
{
    /// <summary>Longest before/after text kept (Table Storage strings are limited to 32K characters).</summary>
    public const int MaxStateChars = 30_000;

    /// <summary>Appends a record.</summary>
    public async Task WriteAsync(AuditRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        var row = new TableEntity(
            record.At.UtcDateTime.ToString("yyyy-MM", CultureInfo.InvariantCulture),
            (DateTime.MaxValue.Ticks - record.At.UtcTicks).ToString("D19", CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..8])
        {
            ["Actor"] = record.Actor,
            ["Action"] = record.Action,
            ["ScopeId"] = record.ScopeId,
            ["Target"] = record.Target,
            ["At"] = record.At,
        };
        if (record.Before is not null)
        {
            row["Before"] = Truncate(record.Before);
        }

        if (record.After is not null)
        {
            row["After"] = Truncate(record.After);
        }

        await store.Audit.AddEntityAsync(row, cancellationToken);
    }

    /// <summary>Records of one month, newest first.</summary>
    public async Task<IReadOnlyList<AuditRecord>> ReadMonthAsync(DateTimeOffset month, int max = 200, CancellationToken cancellationToken = default)
    {
        var page = await store.Audit.QueryPageAsync(
            TableFilter.Partition(month.UtcDateTime.ToString("yyyy-MM", CultureInfo.InvariantCulture)),
            max,
            cancellationToken: cancellationToken);
        return [.. page.Items.Select(r => new AuditRecord(
            r.Require("Actor"), r.Require("Action"), r.Require("ScopeId"), r.Require("Target"),
            r.GetString("Before"), r.GetString("After"), r.GetDateTimeOffset("At") ?? default))];
    }

    private static string Truncate(string s) => s.Length <= MaxStateChars ? s : s[..MaxStateChars];
}
