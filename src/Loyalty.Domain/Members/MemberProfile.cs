namespace Loyalty.Domain.Members;

/// <summary>A member's profile as stored: identity and contact data, never balances.</summary>
public sealed record MemberProfile(
    string MemberId,
    string Phone,
    string Name,
    DateOnly? Birthday,
    Gender Gender,
    string StoreId,
    EnrolmentChannel Channel,
    bool MarketingConsent,
    DateTimeOffset EnrolledAt);
