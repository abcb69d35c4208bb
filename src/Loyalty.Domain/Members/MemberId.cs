using System.Buffers;
using System.Security.Cryptography;

namespace Loyalty.Domain.Members;

/// <summary>Member ids: <c>M</c> followed by 12 Crockford base-32 characters (60 random bits), short enough to read out.</summary>
public static class MemberId
{
    private const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    private static readonly SearchValues<char> AlphabetValues = SearchValues.Create(Alphabet);

    /// <summary>A new random member id.</summary>
    public static string New()
    {
        Span<byte> bytes = stackalloc byte[8];
        RandomNumberGenerator.Fill(bytes);
        return From(BitConverter.ToUInt64(bytes));
    }

    /// <summary>
    /// A member id derived from a seed (e.g. a batch and a row number), so that a retried import of the same row
    /// chooses the same id.
    /// </summary>
    public static string FromSeed(string seed)
    {
        ArgumentNullException.ThrowIfNull(seed);
        return From(BitConverter.ToUInt64(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(seed)), 0));
    }

    private static string From(ulong bits)
    {
        Span<char> chars = stackalloc char[13];
        chars[0] = 'M';
        for (var i = 1; i < chars.Length; i++)
        {
            chars[i] = Alphabet[(int)(bits & 31)];
            bits >>= 5;
        }

        return new string(chars);
    }

    /// <summary>True when <paramref name="id"/> has the member id shape (cheap check before any storage read).</summary>
    public static bool IsWellFormed(string? id) =>
        id is { Length: 13 } && id[0] == 'M' && id.AsSpan(1).IndexOfAnyExcept(AlphabetValues) < 0;
}
