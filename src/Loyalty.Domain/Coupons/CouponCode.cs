using System.Security.Cryptography;
using System.Text;

namespace Loyalty.Domain.Coupons;

/// <summary>
/// Coupon codes: 12 characters of an alphabet without look-alikes (no 0/O, 1/I/L), about 60 bits. A code is derived
/// with a keyed hash from what identifies one issue (member, source, key, position), so a retried issue produces the
/// same codes and never leaves a second set behind.
/// </summary>
public static class CouponCode
{
    /// <summary>Characters of a code.</summary>
    public const int Length = 12;

    private const string Alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";

    /// <summary>The code for one coupon of one issue.</summary>
    public static string Derive(byte[] key, string memberId, string issueId, int position, int salt = 0)
    {
        ArgumentNullException.ThrowIfNull(key);
        var mac = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{memberId}\n{issueId}\n{position}\n{salt}"));
        var chars = new char[Length];
        for (var i = 0; i < Length; i++)
        {
            chars[i] = Alphabet[mac[i] % Alphabet.Length];
        }

        return new string(chars);
    }

    /// <summary>Normalises a code as typed (case, spaces, dashes); null when it cannot be a code.</summary>
    public static string? Normalise(string? typed)
    {
        if (typed is null)
        {
            return null;
        }

        var code = new string([.. typed.Where(c => c is not (' ' or '-')).Select(char.ToUpperInvariant)]);
        return code.Length == Length && code.All(c => Alphabet.Contains(c, StringComparison.Ordinal)) ? code : null;
    }
}
