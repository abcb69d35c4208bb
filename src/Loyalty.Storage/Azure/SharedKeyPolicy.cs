using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Loyalty.Storage.Azure;

/// <summary>
/// Signs each attempt with the storage account key. The Table service and the Queue service use different
/// string-to-sign layouts (see the Azure Storage "Authorize with Shared Key" reference); both are here.
/// </summary>
internal sealed class SharedKeyPolicy(string accountName, byte[] accountKey, SharedKeyPolicy.Service service) : HttpPipelineSynchronousPolicy
{
    internal enum Service
    {
        Table,
        Queue,
    }

    public override void OnSendingRequest(HttpMessage message)
    {
        var request = message.Request;
        var date = DateTimeOffset.UtcNow.ToString("R", CultureInfo.InvariantCulture);
        request.Headers.SetValue("x-ms-date", date);
        var stringToSign = service == Service.Table ? TableStringToSign(request, date) : QueueStringToSign(request);
        using var hmac = new HMACSHA256(accountKey);
        var signature = Convert.ToBase64String(hmac.ComputeHash(Encoding.UTF8.GetBytes(stringToSign)));
        request.Headers.SetValue("Authorization", $"SharedKey {accountName}:{signature}");
    }

    private string TableStringToSign(Request request, string date)
    {
        var uri = request.Uri.ToUri();
        var resource = new StringBuilder("/").Append(accountName).Append(uri.AbsolutePath);
        var comp = QueryValues(uri).FirstOrDefault(p => p.Key == "comp");
        if (comp.Key is not null)
        {
            resource.Append("?comp=").Append(comp.Value);
        }

        return string.Join(
            '\n',
            request.Method.ToString(),
            Header(request, "Content-MD5"),
            Header(request, "Content-Type"),
            date,
            resource.ToString());
    }

    private string QueueStringToSign(Request request)
    {
        var contentLength = request.Content is not null && request.Content.TryComputeLength(out var length) && length > 0
            ? length.ToString(CultureInfo.InvariantCulture)
            : string.Empty;
        var sb = new StringBuilder()
            .Append(request.Method.ToString()).Append('\n')
            .Append(Header(request, "Content-Encoding")).Append('\n')
            .Append(Header(request, "Content-Language")).Append('\n')
            .Append(contentLength).Append('\n')
            .Append(Header(request, "Content-MD5")).Append('\n')
            .Append(Header(request, "Content-Type")).Append('\n')
            .Append('\n') // Date: x-ms-date is used instead.
            .Append(Header(request, "If-Modified-Since")).Append('\n')
            .Append(Header(request, "If-Match")).Append('\n')
            .Append(Header(request, "If-None-Match")).Append('\n')
            .Append(Header(request, "If-Unmodified-Since")).Append('\n')
            .Append(Header(request, "Range")).Append('\n');

        foreach (var header in request.Headers
                     .Where(h => h.Name.StartsWith("x-ms-", StringComparison.OrdinalIgnoreCase))
                     .Select(h => (Name: h.Name.ToLowerInvariant(), h.Value))
                     .OrderBy(h => h.Name, StringComparer.Ordinal))
        {
            sb.Append(header.Name).Append(':').Append(header.Value.Trim()).Append('\n');
        }

        var uri = request.Uri.ToUri();
        sb.Append('/').Append(accountName).Append(uri.AbsolutePath);
        foreach (var group in QueryValues(uri).GroupBy(p => p.Key).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            sb.Append('\n').Append(group.Key).Append(':')
                .Append(string.Join(',', group.Select(p => p.Value).Order(StringComparer.Ordinal)));
        }

        return sb.ToString();
    }

    private static string Header(Request request, string name) =>
        request.Headers.TryGetValue(name, out var value) ? value : string.Empty;

    private static IEnumerable<KeyValuePair<string, string>> QueryValues(Uri uri)
    {
        var query = uri.Query.TrimStart('?');
        if (query.Length == 0)
        {
            yield break;
        }

        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            yield return new(
                Uri.UnescapeDataString(kv[0]).ToLowerInvariant(),
                kv.Length > 1 ? Uri.UnescapeDataString(kv[1]) : string.Empty);
        }
    }
}
