using Loyalty.Domain.Coupons;

namespace Loyalty.Functions.Coupons;

/// <summary>A coupon as the API shows it.</summary>
internal sealed record CouponView(
    string Code,
    string TemplateId,
    string Name,
    CouponKind Kind,
    long? AmountOff,
    int? PercentOff,
    long? MaxDiscount,
    string? Sku,
    long MinSpend,
    IReadOnlyList<string> Categories,
    IReadOnlyList<string> Stores,
    bool StacksWithMemberDiscount,
    long FaceValue,
    DateTimeOffset ValidFrom,
    DateTimeOffset ValidUntil,
    CouponState State,
    string Source,
    DateTimeOffset IssuedAt,
    string? RedeemedSaleId,
    DateTimeOffset? RedeemedAt)
{
    public static CouponView From(Coupon c)
    {
        ArgumentNullException.ThrowIfNull(c);
        var t = c.Terms;
        return new(
            c.Code, c.TemplateId, c.Name, t.Kind, t.AmountOff, t.PercentOff, t.MaxDiscount, t.Sku, t.MinSpend, t.Categories, t.Stores,
            t.StacksWithMemberDiscount, c.FaceValue, c.ValidFrom, c.ValidUntil, c.State, c.Source, c.IssuedAt, c.RedeemedSaleId, c.RedeemedAt);
    }
}
