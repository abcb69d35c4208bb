using Loyalty.Domain.Common;
using Loyalty.Domain.Org;

namespace Loyalty.Domain.Coupons;

/// <summary>
/// A coupon a member holds: a code, the terms copied from its template, a validity window (from inclusive, until
/// exclusive), its state, and where it came from (<c>ops</c>, <c>signup</c>, <c>upgrade</c>, <c>campaign:...</c>).
/// </summary>
public sealed record Coupon(
    string Code,
    string MemberId,
    string TemplateId,
    string Name,
    CouponTerms Terms,
    long FaceValue,
    DateTimeOffset ValidFrom,
    DateTimeOffset ValidUntil,
    CouponState State,
    string Source,
    DateTimeOffset IssuedAt,
    string? RedeemedSaleId = null,
    DateTimeOffset? RedeemedAt = null)
{
    /// <summary>
    /// Whether the coupon can be used now at <paramref name="storeId"/>: still issued, inside its window, and valid
    /// at that store (directly or through its region).
    /// </summary>
    public DomainError? CheckUsable(string storeId, OrgTree org, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(org);
        var error = State switch
        {
            CouponState.Redeemed => new DomainError("coupon_used", $"Coupon {Code} has already been used.", ErrorKind.Conflict, "couponCodes"),
            CouponState.Expired => Expired(),
            CouponState.Revoked => new DomainError("coupon_revoked", $"Coupon {Code} was withdrawn.", ErrorKind.Unprocessable, "couponCodes"),
            _ => null,
        };
        if (error is not null)
        {
            return error;
        }

        if (now >= ValidUntil)
        {
            return Expired();
        }

        if (now < ValidFrom)
        {
            return new DomainError("coupon_not_yet_valid", $"Coupon {Code} is valid from {ValidFrom:yyyy-MM-dd HH:mm} UTC.", ErrorKind.Unprocessable, "couponCodes");
        }

        return Terms.Stores.Count == 0 || Terms.Stores.Any(s => org.Contains(s, storeId))
            ? null
            : new DomainError("coupon_store_ineligible", $"Coupon {Code} cannot be used at store '{storeId}'.", ErrorKind.Unprocessable, "couponCodes");
    }

    private DomainError Expired() => new("coupon_expired", $"Coupon {Code} expired at {ValidUntil:yyyy-MM-dd HH:mm} UTC.", ErrorKind.Unprocessable, "couponCodes");
}
