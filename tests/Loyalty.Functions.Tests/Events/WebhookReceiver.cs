using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Loyalty.Functions.Tests.Events;

/// <summary>One POST the receiver got: the Standard Webhooks headers, the raw body and the answer it gave.</summary>
public sealed record Receipt(string Path, string? Id, string? Timestamp, string? Signature, string ContentType, byte[] Body, int Answered)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;
}

/// <summary>
/// A real HTTP server on loopback that records every webhook it receives. <see cref="FailFirst"/> makes a path answer
/// 503 a number of times before it answers 204.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _failures = new(StringComparer.Ordinal);

    private WebhookReceiver(WebApplication app) => _app = app;

    public ConcurrentQueue<Receipt> Receipts { get; } = new();

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The next <paramref name="times"/> deliveries to <paramref name="path"/> are answered 503.</summary>
    public void FailFirst(string path, int times) => _failures[path] = times;

    /// <summary>Deliveries to <paramref name="path"/> are recorded on arrival and answered only once <see cref="Release"/> is called.</summary>
    public void Hold(string path) => _held[path] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Answers the deliveries held at <paramref name="path"/> (204) and stops holding.</summary>
    public void Release(string path)
    {
        if (_held.TryRemove(path, out var gate))
        {
            gate.TrySetResult();
        }
    }

    private readonly ConcurrentDictionary<string, TaskCompletionSource> _held = new(StringComparer.Ordinal);

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/{**path}", async (HttpContext http) =>
        {
            using var buffer = new MemoryStream();
            await http.Request.Body.CopyToAsync(buffer);
            var path = http.Request.Path.Value ?? "/";
            var fail = receiver._failures.TryGetValue(path, out var left) && left > 0 && receiver._failures.TryUpdate(path, left - 1, left);
            var status = fail ? 503 : 204;
            receiver.Receipts.Enqueue(new Receipt(
                path, http.Request.Headers["webhook-id"], http.Request.Headers["webhook-timestamp"], http.Request.Headers["webhook-signature"],
                http.Request.ContentType ?? string.Empty, buffer.ToArray(), status));
            if (receiver._held.TryGetValue(path, out var gate))
            {
                await gate.Task.WaitAsync(TimeSpan.FromMinutes(2));
            }

            http.Response.StatusCode = status;
        });
        await app.StartAsync();
        receiver.BaseAddress = new Uri(app.Urls.First());
        return receiver;
    }

    /// <summary>
    /// Verifies a delivery as the Standard Webhooks specification describes it (written here from the spec, not with the
    /// app's code): the base64 HMAC-SHA256 of <c>{id}.{timestamp}.{body}</c> under the secret's bytes is one of the
    /// space-separated <c>v1,</c> signatures, and the timestamp is within five minutes.
    /// </summary>
    public static bool Verify(Receipt receipt, string secret)
    {
        if (receipt.Id is null || receipt.Timestamp is null || receipt.Signature is null || !long.TryParse(receipt.Timestamp, out var ts) ||
            Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - ts) > 300)
        {
            return false;
        }

        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var signed = Encoding.UTF8.GetBytes($"{receipt.Id}.{receipt.Timestamp}.").Concat(receipt.Body).ToArray();
        var expected = Encoding.ASCII.GetBytes(Convert.ToBase64String(HMACSHA256.HashData(key, signed)));
        return receipt.Signature.Split(' ').Where(s => s.StartsWith("v1,", StringComparison.Ordinal))
            .Any(s => CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(s[3..]), expected));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
