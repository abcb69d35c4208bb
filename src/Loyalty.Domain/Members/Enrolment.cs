using Loyalty.Domain.Common;
using Loyalty.Domain.Org;

namespace Loyalty.Domain.Members;

/// <summary>A validated enrolment: everything needed to create a member, nothing the server owns.</summary>
public sealed record Enrolment(
    PhoneNumber Phone,
    string Name,
    DateOnly? Birthday,
    Gender Gender,
    string StoreId,
    EnrolmentChannel Channel,
    CardType CardType,
    bool MarketingConsent)
{
    /// <summary>Longest accepted name.</summary>
    public const int MaxNameLength = 50;

    /// <summary>
    /// Validates raw enrolment input against the org tree and today's date in the chain's time zone; the first
    /// problem found is returned.
    /// </summary>
    public static Result<Enrolment> Create(
        string? phone,
        string? name,
        string? birthday,
        string? gender,
        string? storeId,
        string? channel,
        string? cardType,
        bool? marketingConsent,
        OrgTree org,
        DateOnly today)
    {
        ArgumentNullException.ThrowIfNull(org);
        var parsedPhone = PhoneNumber.Parse(phone);
        if (!parsedPhone.IsSuccess)
        {
            return parsedPhone.Error;
        }

        var trimmedName = name?.Trim();
        if (string.IsNullOrEmpty(trimmedName) || trimmedName.Length > MaxNameLength || trimmedName.Any(char.IsControl))
        {
            return DomainError.Invalid("name_invalid", "name", $"A name of 1-{MaxNameLength} printable characters is required.");
        }

        DateOnly? birth = null;
        if (birthday is not null)
        {
            if (!DateOnly.TryParseExact(birthday, "yyyy-MM-dd", out var b) || b > today || b.Year < today.Year - 130)
            {
                return DomainError.Invalid("birthday_invalid", "birthday", "The birthday is a past date written yyyy-MM-dd.");
            }

            birth = b;
        }

        if (!TryParseEnum(gender, Gender.Unspecified, out Gender g))
        {
            return DomainError.Invalid("gender_invalid", "gender", "Gender is one of unspecified, female, male.");
        }

        if (string.IsNullOrEmpty(storeId))
        {
            return DomainError.Invalid("store_required", "storeId", "The registering store is required.");
        }

        if (org.FindStore(storeId) is null)
        {
            return DomainError.Invalid("store_unknown", "storeId", $"No store '{storeId}' in the org tree.");
        }

        if (!TryParseEnum(channel, EnrolmentChannel.Store, out EnrolmentChannel ch))
        {
            return DomainError.Invalid("channel_invalid", "channel", "Channel is one of store, callCenter, web, miniProgram, batchImport.");
        }

        if (!TryParseEnum(cardType, CardType.Personal, out CardType ct) || ct != CardType.Personal)
        {
            // Linked, supplementary and group cards are issued onto an existing account, never at enrolment.
            return DomainError.Invalid("card_type_invalid", "cardType", "Enrolment issues a personal card; add other cards to the account afterwards.");
        }

        return new Enrolment(parsedPhone.Value, trimmedName, birth, g, storeId, ch, ct, marketingConsent ?? false);
    }

    private static bool TryParseEnum<TEnum>(string? text, TEnum fallback, out TEnum value)
        where TEnum : struct, Enum
    {
        if (text is null)
        {
            value = fallback;
            return true;
        }

        // Only names are accepted: "1" must not slip through as a numeric enum value.
        return Enum.TryParse(text, ignoreCase: true, out value) && !char.IsAsciiDigit(text.FirstOrDefault()) && Enum.IsDefined(value);
    }
}
