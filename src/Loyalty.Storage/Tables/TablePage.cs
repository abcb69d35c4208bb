namespace Loyalty.Storage.Tables;

/// <summary>Continuation of a table query: the next partition and row key, opaque to callers.</summary>
/// <param name="NextPartitionKey">Value of x-ms-continuation-NextPartitionKey.</param>
/// <param name="NextRowKey">Value of x-ms-continuation-NextRowKey (may be absent).</param>
public sealed record TableContinuation(string NextPartitionKey, string? NextRowKey)
{
    /// <summary>
    /// The continuation as one opaque base64url token for API clients. A query's own partition filter keeps a token
    /// taken from another query from reading anything that query would not.
    /// </summary>
    public string Encode() =>
        Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(NextPartitionKey + "\n" + NextRowKey)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>Reads a token made by <see cref="Encode"/>; null when it is not one.</summary>
    public static TableContinuation? Decode(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }

        var padded = token.Replace('-', '+').Replace('_', '/');
        padded += new string('=', (4 - (padded.Length % 4)) % 4);
        var buffer = new byte[padded.Length];
        if (!Convert.TryFromBase64String(padded, buffer, out var written))
        {
            return null;
        }

        var parts = System.Text.Encoding.UTF8.GetString(buffer, 0, written).Split('\n');
        return parts is [{ Length: > 0 } pk, var rk] ? new TableContinuation(pk, rk.Length == 0 ? null : rk) : null;
    }
}

/// <summary>One page of query results.</summary>
/// <param name="Items">The rows.</param>
/// <param name="Continuation">Where the next page starts; null at the end.</param>
public sealed record TablePage(IReadOnlyList<TableEntity> Items, TableContinuation? Continuation);
