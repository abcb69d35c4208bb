using System.Globalization;
using System.Security;
using System.Text;
using System.Xml.Linq;
using Azure.Core;
using Azure.Core.Pipeline;
using Loyalty.Storage.Azure;

namespace Loyalty.Storage.Queues;

/// <summary>Queue service REST client on an Azure.Core pipeline. Thread-safe; one per queue.</summary>
public sealed class QueueClient : IQueueClient
{
    internal const string ApiVersion = "2021-12-02";

    /// <summary>The service's limit on a message's initial or updated invisibility.</summary>
    public static readonly TimeSpan MaxVisibilityDelay = TimeSpan.FromDays(7);

    private readonly HttpPipeline _pipeline;
    private readonly Uri _endpoint;

    internal QueueClient(HttpPipeline pipeline, Uri endpoint, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        _pipeline = pipeline;
        _endpoint = endpoint;
        Name = name;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public async Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default)
    {
        using var message = Create(RequestMethod.Put, Name);
        await SendAsync(message, cancellationToken);
    }

    /// <summary>Deletes the queue with its messages; nothing happens when it does not exist.</summary>
    public async Task DeleteIfExistsAsync(CancellationToken cancellationToken = default)
    {
        using var message = Create(RequestMethod.Delete, Name);
        await _pipeline.SendAsync(message, cancellationToken);
        if (message.Response.IsError && message.Response.Status != 404)
        {
            throw StoragePipeline.Failure(message.Response);
        }
    }

    /// <inheritdoc />
    public async Task<SendReceipt> SendMessageAsync(string body, TimeSpan? visibilityDelay = null, TimeSpan? timeToLive = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        var delay = visibilityDelay ?? TimeSpan.Zero;
        if (delay < TimeSpan.Zero || delay >= MaxVisibilityDelay)
        {
            throw new ArgumentOutOfRangeException(nameof(visibilityDelay), "A visibility delay is between 0 and 7 days.");
        }

        var query = $"visibilitytimeout={Seconds(delay)}&messagettl={(timeToLive is { } ttl ? Seconds(ttl) : "-1")}";
        using var message = Create(RequestMethod.Post, $"{Name}/messages", query);
        var encoded = Convert.ToBase64String(Encoding.UTF8.GetBytes(body));
        message.Request.Headers.SetValue("Content-Type", "application/xml");
        message.Request.Content = RequestContent.Create(Encoding.UTF8.GetBytes(
            $"<QueueMessage><MessageText>{SecurityElement.Escape(encoded)}</MessageText></QueueMessage>"));
        var xml = await SendForXmlAsync(message, cancellationToken);
        var item = xml.Root!.Element("QueueMessage")!;
        return new SendReceipt(item.Element("MessageId")!.Value, item.Element("PopReceipt")!.Value, Date(item, "TimeNextVisible"));
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<QueueMessage>> ReceiveMessagesAsync(int maxMessages, TimeSpan visibilityTimeout, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxMessages, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxMessages, 32);
        using var message = Create(RequestMethod.Get, $"{Name}/messages", $"numofmessages={maxMessages}&visibilitytimeout={Seconds(visibilityTimeout)}");
        var xml = await SendForXmlAsync(message, cancellationToken);
        return [.. xml.Root!.Elements("QueueMessage").Select(Parse)];
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<QueueMessage>> PeekMessagesAsync(int maxMessages, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxMessages, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxMessages, 32);
        using var message = Create(RequestMethod.Get, $"{Name}/messages", $"numofmessages={maxMessages}&peekonly=true");
        var xml = await SendForXmlAsync(message, cancellationToken);
        return [.. xml.Root!.Elements("QueueMessage").Select(Parse)];
    }

    /// <inheritdoc />
    public async Task DeleteMessageAsync(string messageId, string popReceipt, CancellationToken cancellationToken = default)
    {
        using var message = Create(RequestMethod.Delete, $"{Name}/messages/{Uri.EscapeDataString(messageId)}", "popreceipt=" + Uri.EscapeDataString(popReceipt));
        await _pipeline.SendAsync(message, cancellationToken);
        if (message.Response.IsError && message.Response.Status != 404)
        {
            throw StoragePipeline.Failure(message.Response);
        }
    }

    /// <inheritdoc />
    public async Task<string> UpdateVisibilityAsync(string messageId, string popReceipt, TimeSpan visibilityTimeout, CancellationToken cancellationToken = default)
    {
        using var message = Create(
            RequestMethod.Put,
            $"{Name}/messages/{Uri.EscapeDataString(messageId)}",
            $"popreceipt={Uri.EscapeDataString(popReceipt)}&visibilitytimeout={Seconds(visibilityTimeout)}");
        await SendAsync(message, cancellationToken);
        return message.Response.Headers.TryGetValue("x-ms-popreceipt", out var receipt)
            ? receipt
            : throw new InvalidOperationException("The service did not return a new pop receipt.");
    }

    private static QueueMessage Parse(XElement item)
    {
        var raw = item.Element("MessageText")?.Value ?? string.Empty;
        return new QueueMessage(
            item.Element("MessageId")!.Value,
            item.Element("PopReceipt")?.Value ?? string.Empty,
            Decode(raw),
            long.Parse(item.Element("DequeueCount")?.Value ?? "0", CultureInfo.InvariantCulture),
            Date(item, "InsertionTime"),
            Date(item, "ExpirationTime"),
            item.Element("TimeNextVisible") is null ? default : Date(item, "TimeNextVisible"));
    }

    // Messages written by other producers may be plain text; the host accepts both, and so do we.
    private static string Decode(string raw)
    {
        var buffer = new byte[raw.Length];
        return Convert.TryFromBase64String(raw, buffer, out var written) ? Encoding.UTF8.GetString(buffer, 0, written) : raw;
    }

    private static DateTimeOffset Date(XElement item, string name) =>
        DateTimeOffset.Parse(item.Element(name)!.Value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    private static string Seconds(TimeSpan span) => ((long)Math.Ceiling(span.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    private HttpMessage Create(RequestMethod method, string path, string? query = null) =>
        StoragePipeline.CreateMessage(_pipeline, _endpoint, method, path, query, ApiVersion);

    private async Task SendAsync(HttpMessage message, CancellationToken cancellationToken)
    {
        await _pipeline.SendAsync(message, cancellationToken);
        if (message.Response.IsError)
        {
            throw StoragePipeline.Failure(message.Response);
        }
    }

    private async Task<XDocument> SendForXmlAsync(HttpMessage message, CancellationToken cancellationToken)
    {
        await SendAsync(message, cancellationToken);
        return XDocument.Parse(message.Response.Content.ToString());
    }
}
