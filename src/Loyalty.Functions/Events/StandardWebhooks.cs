using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Loyalty.Functions.Events;

/// <summary>
/// Signing as the Standard Webhooks specification has it, so a consumer verifies with any of its libraries:
/// <c>webhook-id</c> (the event id, the same on every retry), <c>webhook-timestamp</c> (unix seconds of the attempt)
/// and <c>webhook-signature</c>: <c>v1,</c> and the base64 HMAC-SHA256 of <c>{id}.{timestamp}.{body}</c> under the
/// bytes the <c>whsec_</c> secret encodes, one per live secret, separated by spaces.
/// </summary>
internal static class StandardWebhooks
{
    public const string IdHeader = "webhook-id";
    public const string TimestampHeader = "webhook-timestamp";
    public const string SignatureHeader = "webhook-signature";
    private const string SecretPrefix = "whsec_";

    /// <summary>The value of <c>webhook-signature</c> for one attempt.</summary>
    public static string Sign(IEnumerable<string> secrets, string id, long timestamp, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        var prefix = Encoding.UTF8.GetBytes(id + "." + timestamp.ToString(CultureInfo.InvariantCulture) + ".");
        var content = new byte[prefix.Length + body.Length];
        prefix.CopyTo(content, 0);
        body.CopyTo(content.AsSpan(prefix.Length));
        return string.Join(' ', secrets.Select(secret => "v1," + Convert.ToBase64String(HMACSHA256.HashData(KeyOf(secret), content))));
    }

    /// <summary>The key bytes of a <c>whsec_</c> secret.</summary>
    public static byte[] KeyOf(string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        return Convert.FromBase64String(secret.StartsWith(SecretPrefix, StringComparison.Ordinal) ? secret[SecretPrefix.Length..] : secret);
    }
}
