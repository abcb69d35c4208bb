using System.Globalization;
using System.Text.RegularExpressions;

namespace Loyalty.Functions.Tests.Docs;

/// <summary>One request of a documentation example, exactly as it is written.</summary>
/// <param name="Source">The file and the line of the request line, for messages.</param>
/// <param name="Title">The text of the <c>###</c> line above it (empty when there is none).</param>
/// <param name="Method">The HTTP method.</param>
/// <param name="Target">The request target as written (a path, or a URL with variables).</param>
/// <param name="Headers">The header lines, in order.</param>
/// <param name="Body">The body (empty when there is none), lines joined with LF.</param>
public sealed record HttpExample(string Source, string Title, string Method, string Target, IReadOnlyList<KeyValuePair<string, string>> Headers, string Body)
{
    /// <summary>The status the documentation states for this request; null when it states none (then any 2xx is right).</summary>
    public int? Status { get; init; }

    /// <summary>The problem <c>code</c> the documentation states with an error status.</summary>
    public string? Code { get; init; }

    /// <summary>How captures name the request: its method and target as written.</summary>
    public string Written => $"{Method} {Target}";

    public override string ToString() => $"{Source} {Method} {Target}" + (Title.Length > 0 ? $" ({Title})" : "");
}

/// <summary>
/// Reads the runnable examples of the documentation. The format is that of .http files (VS Code REST Client,
/// JetBrains HTTP client): a request line, header lines, a blank line and the body; <c>###</c> lines separate requests
/// and may carry a title; <c>#</c> and <c>//</c> lines are comments; <c>@name = value</c> defines a variable.
/// What a request is expected to answer is stated in the text: a title ending in <c>-&gt; 403 forbidden_scope</c>
/// (a status, optionally a problem code), or, in Markdown, a line starting with <c>`201`</c> right after the
/// <c>```http</c> block, which is the answer of the block's last request. Nothing stated means a 2xx.
/// </summary>
public static partial class HttpExamples
{
    /// <summary>Every request of every <c>```http</c> block of a Markdown file, in order.</summary>
    /// <exception cref="FormatException">A block does not parse, or a request line stands outside an <c>```http</c> block.</exception>
    public static IReadOnlyList<HttpExample> FromMarkdown(string file, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = text.ReplaceLineEndings("\n").Split('\n');
        var examples = new List<HttpExample>();
        var fence = (string?)null;
        for (var i = 0; i < lines.Length; i++)
        {
            var trimmed = lines[i].Trim();

            // A request written in prose or in another fence would silently escape the test.
            if (RequestLine().IsMatch(lines[i]))
            {
                throw new FormatException($"{file}:{i + 1}: a request outside an ```http block: {lines[i]}");
            }

            if (fence is not null)
            {
                fence = trimmed == "```" ? null : fence;
                continue;
            }

            if (trimmed.StartsWith("```", StringComparison.Ordinal) && trimmed != "```http")
            {
                fence = trimmed;
                continue;
            }

            if (trimmed != "```http")
            {
                continue;
            }

            var end = i + 1;
            while (end < lines.Length && lines[end].Trim() != "```")
            {
                end++;
            }

            if (end == lines.Length)
            {
                throw new FormatException($"{file}:{i + 1}: the ```http block is not closed");
            }

            var block = Requests(file, lines[(i + 1)..end], i + 2);
            if (block.Count == 0)
            {
                throw new FormatException($"{file}:{i + 1}: an ```http block without a request");
            }

            var after = lines.Skip(end + 1).FirstOrDefault(l => l.Trim().Length > 0);
            if (after is not null && StatedAfterBlock().Match(after) is { Success: true } stated)
            {
                var status = int.Parse(stated.Groups["status"].Value, CultureInfo.InvariantCulture);
                if (block[^1].Status is { } titled && titled != status)
                {
                    throw new FormatException($"{block[^1].Source}: its title says {titled}, the text after the block {status}");
                }

                block[^1] = block[^1] with { Status = status };
            }

            examples.AddRange(block);
            i = end;
        }

        return examples;
    }

    /// <summary>Every request of an .http file, in order.</summary>
    /// <exception cref="FormatException">A request does not parse.</exception>
    public static IReadOnlyList<HttpExample> FromHttpFile(string file, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Requests(file, text.ReplaceLineEndings("\n").Split('\n'), 1);
    }

    /// <summary>The <c>@name = value</c> variables of an .http file.</summary>
    public static IReadOnlyDictionary<string, string> Variables(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.ReplaceLineEndings("\n").Split('\n')
            .Select(l => Variable().Match(l))
            .Where(m => m.Success)
            .ToDictionary(m => m.Groups["name"].Value, m => m.Groups["value"].Value.Trim(), StringComparer.Ordinal);
    }

    private static List<HttpExample> Requests(string file, string[] lines, int firstLine)
    {
        var requests = new List<HttpExample>();
        var title = "";
        var start = 0;
        for (var i = 0; i <= lines.Length; i++)
        {
            if (i < lines.Length && !lines[i].StartsWith("###", StringComparison.Ordinal))
            {
                continue;
            }

            if (Request(file, title, lines[start..i], firstLine + start) is { } request)
            {
                requests.Add(request);
            }

            if (i < lines.Length)
            {
                title = lines[i][3..].Trim();
                start = i + 1;
            }
        }

        return requests;
    }

    private static HttpExample? Request(string file, string title, string[] lines, int firstLine)
    {
        var i = 0;
        while (i < lines.Length && (lines[i].Trim().Length == 0 || IsComment(lines[i]) || Variable().IsMatch(lines[i])))
        {
            i++;
        }

        if (i == lines.Length)
        {
            return null;
        }

        var source = $"{file}:{firstLine + i}";
        var requestLine = RequestLine().Match(lines[i]);
        if (!requestLine.Success)
        {
            throw new FormatException($"{source}: not a request line (METHOD target): {lines[i]}");
        }

        var headers = new List<KeyValuePair<string, string>>();
        for (i++; i < lines.Length && lines[i].Trim().Length > 0; i++)
        {
            if (IsComment(lines[i]))
            {
                continue;
            }

            var colon = lines[i].IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                throw new FormatException($"{file}:{firstLine + i}: not a header line (Name: value): {lines[i]}");
            }

            headers.Add(KeyValuePair.Create(lines[i][..colon].Trim(), lines[i][(colon + 1)..].Trim()));
        }

        var body = string.Join('\n', lines.Skip(i).SkipWhile(l => l.Trim().Length == 0)).TrimEnd();
        var stated = StatedInTitle().Match(title);
        return new HttpExample(source, title, requestLine.Groups["method"].Value, requestLine.Groups["target"].Value, headers, body)
        {
            Status = stated.Success ? int.Parse(stated.Groups["status"].Value, CultureInfo.InvariantCulture) : null,
            Code = stated.Groups["code"].Success ? stated.Groups["code"].Value : null,
        };
    }

    private static bool IsComment(string line) =>
        (line.StartsWith('#') && !line.StartsWith("###", StringComparison.Ordinal)) || line.StartsWith("//", StringComparison.Ordinal);

    // A request target has no spaces: "GET /api/members?phone=139 1234 5678" is not a request line.
    [GeneratedRegex(@"^(?<method>GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) +(?<target>\S+)(?: +HTTP/[0-9.]+)?\s*$")]
    private static partial Regex RequestLine();

    [GeneratedRegex(@"^@(?<name>[A-Za-z_][A-Za-z0-9_]*)\s*=(?<value>.*)$")]
    private static partial Regex Variable();

    [GeneratedRegex(@"->\s*(?<status>[1-5][0-9]{2})(?:\s+`?(?<code>[a-z][a-z0-9_]*)`?)?\s*$")]
    private static partial Regex StatedInTitle();

    [GeneratedRegex(@"^`(?<status>[1-5][0-9]{2})`")]
    private static partial Regex StatedAfterBlock();
}
