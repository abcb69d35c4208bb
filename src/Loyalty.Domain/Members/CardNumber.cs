using System.Security.Cryptography;
using Loyalty.Domain.Common;

namespace Loyalty.Domain.Members;

/// <summary>
/// A 16-digit member card number whose last digit is a Luhn check digit, so a mistyped number is rejected at the
/// till before any lookup.
/// </summary>
public sealed record CardNumber
{
    /// <summary>Number of digits.</summary>
    public const int Length = 16;

    private CardNumber(string value) => Value = value;

    /// <summary>The digits.</summary>
    public string Value { get; }

    /// <summary>Parses and checks a card number typed or scanned at a till.</summary>
    public static Result<CardNumber> Parse(string? input, string field = "cardNumber")
    {
        var s = input?.Replace(" ", string.Empty, StringComparison.Ordinal) ?? string.Empty;
        if (s.Length != Length || !s.All(char.IsAsciiDigit))
        {
            return DomainError.Invalid("card_number_invalid", field, $"A card number has {Length} digits.");
        }

        return CheckDigit(s.AsSpan(0, Length - 1)) == s[^1] - '0'
            ? new CardNumber(s)
            : DomainError.Invalid("card_number_invalid", field, "The card number's check digit does not match.");
    }

    /// <summary>Generates a random card number under a chain prefix (1-6 digits).</summary>
    public static CardNumber Generate(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        if (prefix.Length is < 1 or > 6 || !prefix.All(char.IsAsciiDigit))
        {
            throw new ArgumentException("The card prefix is 1-6 digits.", nameof(prefix));
        }

        Span<char> digits = stackalloc char[Length];
        prefix.AsSpan().CopyTo(digits);
        for (var i = prefix.Length; i < Length - 1; i++)
        {
            digits[i] = (char)('0' + RandomNumberGenerator.GetInt32(10));
        }

        digits[^1] = (char)('0' + CheckDigit(digits[..^1]));
        return new CardNumber(new string(digits));
    }

    /// <summary>
    /// A card number derived from a seed (e.g. a hash of the member and the idempotency key), so that a retried
    /// request chooses the same number; <paramref name="salt"/> moves to another number after a collision.
    /// </summary>
    public static CardNumber FromSeed(string prefix, string seed, int salt)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentNullException.ThrowIfNull(seed);
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{seed}#{salt}"));
        Span<char> digits = stackalloc char[Length];
        prefix.AsSpan().CopyTo(digits);
        for (var i = prefix.Length; i < Length - 1; i++)
        {
            digits[i] = (char)('0' + (hash[i] % 10));
        }

        digits[^1] = (char)('0' + CheckDigit(digits[..^1]));
        return new CardNumber(new string(digits));
    }

    /// <summary>Luhn check digit for a run of digits.</summary>
    public static int CheckDigit(ReadOnlySpan<char> payload)
    {
        var sum = 0;
        var doubleIt = true;
        for (var i = payload.Length - 1; i >= 0; i--)
        {
            var d = payload[i] - '0';
            if (doubleIt)
            {
                d *= 2;
                if (d > 9)
                {
                    d -= 9;
                }
            }

            sum += d;
            doubleIt = !doubleIt;
        }

        return (10 - (sum % 10)) % 10;
    }

    /// <inheritdoc />
    public override string ToString() => Value;
}
