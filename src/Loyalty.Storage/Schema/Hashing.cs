using System.Security.Cryptography;
using System.Text;

namespace Loyalty.Storage.Schema;

/// <summary>Hashes used as keys: never store or log the secret or personal value itself.</summary>
public static class Hashing
{
    /// <summary>Lowercase hex SHA-256 of UTF-8 text (for high-entropy secrets such as API keys).</summary>
    public static string Sha256Hex(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    /// <summary>Lowercase hex SHA-256 of bytes.</summary>
    public static string Sha256Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>Keyed hash (HMAC-SHA256) for low-entropy personal data such as phone numbers.</summary>
    public static string KeyedHex(string key, string text)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(text);
        return Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(text)));
    }
}
