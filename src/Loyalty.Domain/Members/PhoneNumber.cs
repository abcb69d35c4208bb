using System.Text;
using Loyalty.Domain.Common;

namespace Loyalty.Domain.Members;

/// <summary>
/// A normalised phone number in E.164 form. Mainland China mobile numbers may be given without the country code
/// (11 digits starting 13-19); any other number must start with '+'. Spaces and dashes are ignored.
/// </summary>
public sealed record PhoneNumber
{
    private PhoneNumber(string e164) => Value = e164;

    /// <summary>E.164 form, e.g. <c>+8613800138000</c>.</summary>
    public string Value { get; }

    /// <summary>Parses user input.</summary>
    public static Result<PhoneNumber> Parse(string? input, string field = "phone")
    {
        if (string.IsNullOrWhiteSpace(input))
        {
            return DomainError.Invalid("phone_required", field, "A phone number is required.");
        }

        var compact = new StringBuilder(input.Length);
        foreach (var c in input.Trim())
        {
            if (c is ' ' or '-')
            {
                continue;
            }

            compact.Append(c);
        }

        var s = compact.ToString();
        if (s.StartsWith('+'))
        {
            var digits = s[1..];
            if (digits.Length is < 8 or > 15 || !digits.All(char.IsAsciiDigit) || digits[0] == '0')
            {
                return Invalid(field);
            }

            return digits.StartsWith("86", StringComparison.Ordinal) && !IsMainlandMobile(digits[2..])
                ? Invalid(field)
                : new PhoneNumber(s);
        }

        return IsMainlandMobile(s) ? new PhoneNumber("+86" + s) : Invalid(field);
    }

    /// <summary>Masked form for callers that do not need the number, e.g. <c>+86138****8000</c>.</summary>
    public string Masked => Mask(Value);

    /// <summary>Masks an E.164 number, keeping the first six and last four characters.</summary>
    public static string Mask(string e164)
    {
        ArgumentNullException.ThrowIfNull(e164);
        return e164.Length <= 10 ? new string('*', e164.Length) : string.Concat(e164.AsSpan(0, 6), "****", e164.AsSpan(e164.Length - 4));
    }

    private static bool IsMainlandMobile(string s) =>
        s.Length == 11 && s[0] == '1' && s[1] is >= '3' and <= '9' && s.All(char.IsAsciiDigit);

    private static DomainError Invalid(string field) =>
        DomainError.Invalid("phone_invalid", field, "Give a mainland mobile number (11 digits) or an international number starting with '+'.");
}
