using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;
using Azure;
using Azure.Core;

namespace Loyalty.Testing;

/// <summary>An error response made up by a test policy, shaped as the Table service shapes its errors.</summary>
internal sealed class SyntheticResponse : Response
{
    private readonly Dictionary<string, string> _headers;

    /// <summary>A JSON error body as the Table service writes it, or with <paramref name="xml"/> the XML one of the Queue and Blob services.</summary>
    public SyntheticResponse(int status, string errorCode, string message, bool xml = false)
    {
        Status = status;
        ReasonPhrase = status switch
        {
            404 => "Not Found",
            412 => "Precondition Failed",
            503 => "Service Unavailable",
            _ => "Error",
        };
        _headers = new(StringComparer.OrdinalIgnoreCase)
        {
            ["x-ms-error-code"] = errorCode,
            ["Content-Type"] = xml ? "application/xml" : "application/json",
        };
        var error = new Dictionary<string, object> { ["odata.error"] = new { code = errorCode, message = new { lang = "en-US", value = message } } };
        ContentStream = new MemoryStream(xml
            ? Encoding.UTF8.GetBytes(new XElement("Error", new XElement("Code", errorCode), new XElement("Message", message)).ToString())
            : JsonSerializer.SerializeToUtf8Bytes(error));
    }

    public override int Status { get; }

    /// <summary>
    /// What a transport sets from the message's classifier (the retry policy reads it). A policy that answers in place
    /// of storage sets it itself; for some calls (a point read's 404) the classifier says "no error".
    /// </summary>
    public override bool IsError => Error;

    /// <summary>Backs <see cref="IsError"/>; an error unless told otherwise.</summary>
    public bool Error { get; set; } = true;

    public override string ReasonPhrase { get; }

    public override Stream? ContentStream { get; set; }

    public override string ClientRequestId { get; set; } = Guid.NewGuid().ToString();

    public override void Dispose() => ContentStream?.Dispose();

    protected override bool ContainsHeader(string name) => _headers.ContainsKey(name);

    protected override IEnumerable<HttpHeader> EnumerateHeaders() => _headers.Select(h => new HttpHeader(h.Key, h.Value));

    protected override bool TryGetHeader(string name, [NotNullWhen(true)] out string? value) => _headers.TryGetValue(name, out value);

    protected override bool TryGetHeaderValues(string name, [NotNullWhen(true)] out IEnumerable<string>? values)
    {
        values = _headers.TryGetValue(name, out var value) ? [value] : null;
        return values is not null;
    }
}
