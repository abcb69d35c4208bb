using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Azure;

namespace Loyalty.Storage.Tables;

/// <summary>
/// Encodes an entity-group transaction as the OData multipart/mixed batch the Table service expects, and decodes
/// its response: one status line per operation on success, or a single error part on failure.
/// </summary>
internal static partial class TableBatchEncoder
{
    public sealed record Batch(string Boundary, byte[] Body);

    public static Batch Encode(Uri endpoint, string table, IReadOnlyList<TableTransactionAction> actions)
    {
        var batchBoundary = "batch_" + Guid.NewGuid().ToString("N");
        var changesetBoundary = "changeset_" + Guid.NewGuid().ToString("N");
        var sb = new StringBuilder();
        sb.Append("--").Append(batchBoundary).Append("\r\n")
            .Append("Content-Type: multipart/mixed; boundary=").Append(changesetBoundary).Append("\r\n\r\n");

        foreach (var action in actions)
        {
            var entity = action.Entity;
            var entityUri = $"{endpoint}/{table}(PartitionKey='{Escape(entity.PartitionKey)}',RowKey='{Escape(entity.RowKey)}')";
            var (method, uri, ifMatch, hasBody) = action.ActionType switch
            {
                TableTransactionActionType.Add => ("POST", $"{endpoint}/{table}", (string?)null, true),
                TableTransactionActionType.UpdateReplace => ("PUT", entityUri, Condition(action.IfMatch), true),
                TableTransactionActionType.UpdateMerge => ("MERGE", entityUri, Condition(action.IfMatch), true),
                TableTransactionActionType.UpsertReplace => ("PUT", entityUri, null, true),
                TableTransactionActionType.UpsertMerge => ("MERGE", entityUri, null, true),
                TableTransactionActionType.Delete => ("DELETE", entityUri, Condition(action.IfMatch), false),
                _ => throw new ArgumentOutOfRangeException(nameof(actions), action.ActionType, null),
            };

            sb.Append("--").Append(changesetBoundary).Append("\r\n")
                .Append("Content-Type: application/http\r\n")
                .Append("Content-Transfer-Encoding: binary\r\n\r\n")
                .Append(method).Append(' ').Append(uri).Append(" HTTP/1.1\r\n")
                .Append("Accept: application/json;odata=minimalmetadata\r\n")
                .Append("DataServiceVersion: 3.0\r\n");
            if (ifMatch is not null)
            {
                sb.Append("If-Match: ").Append(ifMatch).Append("\r\n");
            }

            if (hasBody)
            {
                sb.Append("Prefer: return-no-content\r\n")
                    .Append("Content-Type: application/json\r\n\r\n")
                    .Append(Encoding.UTF8.GetString(TableEntityJson.Serialize(entity)))
                    .Append("\r\n");
            }
            else
            {
                sb.Append("\r\n");
            }
        }

        sb.Append("--").Append(changesetBoundary).Append("--\r\n")
            .Append("--").Append(batchBoundary).Append("--\r\n");
        return new Batch(batchBoundary, Encoding.UTF8.GetBytes(sb.ToString()));
    }

    public static IReadOnlyList<ETag> DecodeResponse(Response response, int count)
    {
        var body = response.Content.ToString();
        var statuses = StatusLine().Matches(body);
        if (statuses.Count == 0)
        {
            throw new RequestFailedException(response.Status, "The batch response held no operation results.", "InvalidBatchResponse", null);
        }

        foreach (Match status in statuses)
        {
            var code = int.Parse(status.Groups[1].Value, CultureInfo.InvariantCulture);
            if (code >= 400)
            {
                throw ToFailure(code, body[status.Index..]);
            }
        }

        var etags = new ETag[count];
        var parts = body.Split("HTTP/1.1 ", StringSplitOptions.None).Skip(1).ToList();
        for (var i = 0; i < Math.Min(count, parts.Count); i++)
        {
            var match = ETagHeader().Match(parts[i]);
            etags[i] = match.Success ? new ETag(match.Groups[1].Value.Trim()) : default;
        }

        return etags;
    }

    private static TableTransactionFailedException ToFailure(int status, string part)
    {
        string? code = null;
        var message = $"Entity-group transaction rejected with {status}";
        int? index = null;
        var jsonStart = part.IndexOf('{', StringComparison.Ordinal);
        if (jsonStart >= 0)
        {
            try
            {
                using var doc = JsonDocument.Parse(part[jsonStart..].TrimEnd('-', '\r', '\n', ' ').Split("\r\n--", 2)[0]);
                var error = doc.RootElement.GetProperty("odata.error");
                code = error.TryGetProperty("code", out var c) ? c.GetString() : null;
                var text = error.TryGetProperty("message", out var m) && m.TryGetProperty("value", out var v) ? v.GetString() : null;
                if (text is not null)
                {
                    message += ": " + text;
                    var colon = text.IndexOf(':', StringComparison.Ordinal);
                    if (colon > 0 && int.TryParse(text.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var i))
                    {
                        index = i;
                    }
                }
            }
            catch (JsonException)
            {
                // Leave the generic message.
            }
            catch (KeyNotFoundException)
            {
                // Leave the generic message.
            }
        }

        return new TableTransactionFailedException(status, $"{message} ({code})", code, index);
    }

    private static string Condition(ETag etag) => etag == default ? "*" : etag.ToString();

    private static string Escape(string key) => Uri.EscapeDataString(key.Replace("'", "''", StringComparison.Ordinal));

    [GeneratedRegex(@"HTTP/1\.1 (\d{3})")]
    private static partial Regex StatusLine();

    [GeneratedRegex(@"(?im)^ETag:\s*(.+)$")]
    private static partial Regex ETagHeader();
}
