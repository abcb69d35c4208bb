using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Loyalty.Domain.Common;

namespace Loyalty.Domain.Webhooks;

/// <summary>
/// Signed webhooks: <c>X-Loyalty-Timestamp</c> is unix seconds, <c>X-Loyalty-Signature</c> is <c>v1=</c> followed by
/// the lowercase hex HMAC-SHA256 of <c>"{timestamp}.{raw body}"</c> under one of the shop's active secrets. The
/// timestamp must be within the tolerance of now (replays of old captures fail), comparison is constant-time, and any
/// of up to two secrets may match so that a shop can rotate without downtime.
/// </summary>
public static class WebhookSignature
{
    /// <summary>How far the timestamp may be from now.</summary>
    public static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);

    /// <summary>Computes the signature header value for a body (what a shop sends).</summary>
    public static string Sign(string secret, long timestamp, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(secret);
        return "v1=" + Convert.ToHexStringLower(Mac(secret, timestamp, body));
    }

    /// <summary>Checks the headers against the body and the shop's secrets.</summary>
    public static DomainError? Verify(string? timestampHeader, string? signatureHeader, ReadOnlySpan<byte> body, IReadOnlyCollection<string> secrets, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        if (string.IsNullOrEmpty(timestampHeader) || string.IsNullOrEmpty(signatureHeader))
        {
            return Unauthorized("signature_missing", "Send X-Loyalty-Timestamp and X-Loyalty-Signature.");
        }

        if (!long.TryParse(timestampHeader, NumberStyles.None, CultureInfo.InvariantCulture, out var timestamp))
        {
            return Unauthorized("signature_invalid", "X-Loyalty-Timestamp is unix seconds.");
        }

        if (Math.Abs(now.ToUnixTimeSeconds() - timestamp) > Tolerance.TotalSeconds)
        {
            return Unauthorized("signature_expired", "The timestamp is more than 5 minutes from now.");
        }

        var presented = signatureHeader.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Where(p => p.StartsWith("v1=", StringComparison.Ordinal))
            .Select(p => TryHex(p[3..]))
            .Where(b => b is not null)
            .ToList();
        var matched = false;
        foreach (var secret in secrets)
        {
            var expected = Mac(secret, timestamp, body);
            foreach (var candidate in presented)
            {
                // Every pair is compared, in constant time, so timing says nothing about which part matched.
                matched |= CryptographicOperations.FixedTimeEquals(expected, candidate);
            }
        }

        return matched ? null : Unauthorized("signature_invalid", "The signature does not match.");
    }

    private static byte[] Mac(string secret, long timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes(timestamp.ToString(CultureInfo.InvariantCulture) + ".");
        var message = new byte[prefix.Length + body.Length];
        prefix.CopyTo(message, 0);
        body.CopyTo(message.AsSpan(prefix.Length));
        return HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), message);
    }

    private static byte[]? TryHex(string hex)
    {
        try
        {
            return hex.Length == 64 ? Convert.FromHexString(hex) : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static DomainError Unauthorized(string code, string message) => new(code, message, ErrorKind.Forbidden);
}
