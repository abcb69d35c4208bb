namespace Loyalty.Storage.Tables;

/// <summary>Where a table query continues: the SDK's continuation token, opaque to callers.</summary>
/// <param name="Token">The token of <see cref="global::Azure.Page{T}.ContinuationToken"/>.</param>
public sealed record TableContinuation(string Token)
{
    /// <summary>The token as it travels in API responses and activity inputs: base64url, so it is URL- and JSON-safe.
    /// A query's own partition filter keeps a token taken from another query from reading anything that query would not.</summary>
    public string Encode() =>
        Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(Marker + Token)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    // Marks our tokens, so a made-up or damaged one is refused (400) instead of handed to the SDK as a position.
    private const string Marker = "c1\n";

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

        var text = System.Text.Encoding.UTF8.GetString(buffer, 0, written);
        return text.StartsWith(Marker, StringComparison.Ordinal) && text.Length > Marker.Length ? new TableContinuation(text[Marker.Length..]) : null;
    }

    /// <summary>The continuation for an SDK token; null at the end of the results.</summary>
    public static TableContinuation? From(string? token) => string.IsNullOrEmpty(token) ? null : new TableContinuation(token);
}

/// <summary>One page of query results.</summary>
/// <param name="Items">The rows.</param>
/// <param name="Continuation">Where the next page starts; null at the end.</param>
public sealed record TablePage(IReadOnlyList<global::Azure.Data.Tables.TableEntity> Items, TableContinuation? Continuation);
