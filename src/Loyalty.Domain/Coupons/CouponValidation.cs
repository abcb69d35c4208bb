using System.Text.RegularExpressions;
using Loyalty.Domain.Common;
using Loyalty.Domain.Org;

namespace Loyalty.Domain.Coupons;

/// <summary>Checks coupon templates and gift packs before they are stored.</summary>
public static partial class CouponValidation
{
    /// <summary>Most templates in the section.</summary>
    public const int MaxTemplates = 200;

    /// <summary>Most coupons one gift pack (or one issue) grants.</summary>
    public const int MaxCouponsPerIssue = 20;

    /// <summary>Validates the coupon templates against the org tree (eligible stores must exist).</summary>
    public static DomainError? Check(IReadOnlyList<CouponTemplate> templates, OrgTree org)
    {
        ArgumentNullException.ThrowIfNull(org);
        if (templates is null || templates.Count > MaxTemplates)
        {
            return Invalid("templates", $"Configure up to {MaxTemplates} templates.");
        }

        if (templates.Select(t => t.TemplateId).Distinct(StringComparer.Ordinal).Count() != templates.Count)
        {
            return Invalid("templateId", "Template ids are unique.");
        }

        foreach (var t in templates)
        {
            if (CheckOne(t, org) is { } error)
            {
                return error;
            }
        }

        return null;
    }

    /// <summary>Validates gift packs: known templates, sensible quantities, an existing sign-up pack.</summary>
    public static DomainError? Check(GiftPackRules rules, IReadOnlyList<CouponTemplate> templates)
    {
        ArgumentNullException.ThrowIfNull(templates);
        if (rules?.Packs is null)
        {
            return Invalid("packs", "packs is a list.");
        }

        if (rules.Packs.Select(p => p.PackId).Distinct(StringComparer.Ordinal).Count() != rules.Packs.Count)
        {
            return Invalid("packId", "Pack ids are unique.");
        }

        foreach (var pack in rules.Packs)
        {
            if (pack.PackId is null || !IdPattern().IsMatch(pack.PackId) || string.IsNullOrWhiteSpace(pack.Name) || pack.Name.Length > 64)
            {
                return Invalid("packId", "Each pack has a packId (1-40 of a-z, 0-9, '-') and a name (up to 64 characters).");
            }

            if (pack.Points is < 0 or > 1_000_000)
            {
                return Invalid("points", $"Pack '{pack.PackId}': points is 0-1000000.");
            }

            var coupons = pack.CouponList;
            if (coupons.Any(c => c.Quantity is < 1 or > 10) || coupons.Sum(c => c.Quantity) > MaxCouponsPerIssue)
            {
                return Invalid("coupons", $"Pack '{pack.PackId}': each quantity is 1-10 and a pack holds at most {MaxCouponsPerIssue} coupons.");
            }

            if (coupons.FirstOrDefault(c => templates.All(t => t.TemplateId != c.TemplateId)) is { } unknown)
            {
                return Invalid("templateId", $"Pack '{pack.PackId}': no coupon template '{unknown.TemplateId}'.");
            }

            if (pack.Points == 0 && coupons.Count == 0)
            {
                return Invalid("points", $"Pack '{pack.PackId}' grants nothing.");
            }
        }

        return rules.SignUpPack is { } signUp && rules.Find(signUp) is null
            ? Invalid("signUpPack", $"signUpPack names no pack ('{signUp}').")
            : null;
    }

    private static DomainError? CheckOne(CouponTemplate t, OrgTree org)
    {
        if (t.TemplateId is null || !IdPattern().IsMatch(t.TemplateId) || string.IsNullOrWhiteSpace(t.Name) || t.Name.Length > 64)
        {
            return Invalid("templateId", "Each template has a templateId (1-40 of a-z, 0-9, '-') and a name (up to 64 characters).");
        }

        var id = t.TemplateId;
        var kindError = t.Kind switch
        {
            CouponKind.AmountOff when t.AmountOff is not (>= 1 and <= 100_000_000) => Invalid("amountOff", $"Template '{id}': amountOff is 1-100000000 fen."),
            CouponKind.PercentOff when t.PercentOff is not (>= 1 and <= 100) => Invalid("percentOff", $"Template '{id}': percentOff is 1-100."),
            CouponKind.PercentOff when t.MaxDiscount is < 1 => Invalid("maxDiscount", $"Template '{id}': maxDiscount is at least 1 fen."),
            CouponKind.FreeItem when string.IsNullOrWhiteSpace(t.Sku) || t.Sku.Length > 64 => Invalid("sku", $"Template '{id}': a free-item coupon names its sku."),
            _ => null,
        };
        if (kindError is not null)
        {
            return kindError;
        }

        if ((t.Kind != CouponKind.AmountOff && t.AmountOff is not null) || (t.Kind != CouponKind.PercentOff && (t.PercentOff is not null || t.MaxDiscount is not null))
            || (t.Kind != CouponKind.FreeItem && (t.Sku is not null || t.ItemValue is not null)))
        {
            return Invalid("kind", $"Template '{id}': set only the fields of its kind ({t.Kind}).");
        }

        if (t.MinSpend < 0 || t.ItemValue is < 0)
        {
            return Invalid("minSpend", $"Template '{id}': amounts cannot be negative.");
        }

        if ((t.Categories ?? []).Any(c => string.IsNullOrWhiteSpace(c) || c.Length > 64))
        {
            return Invalid("categories", $"Template '{id}': categories are names of up to 64 characters.");
        }

        if ((t.Stores ?? []).FirstOrDefault(s => org.Find(s) is null) is { } unknown)
        {
            return Invalid("stores", $"Template '{id}': no store or region '{unknown}' in the org tree.");
        }

        var fixedDates = t.ValidFrom is not null || t.ValidTo is not null;
        if (fixedDates == (t.ValidDays is not null) || (fixedDates && (t.ValidFrom is null || t.ValidTo is null)))
        {
            return Invalid("validDays", $"Template '{id}': give either validFrom and validTo, or validDays.");
        }

        if (t.ValidDays is < 1 or > 3_650 || (fixedDates && t.ValidTo < t.ValidFrom))
        {
            return Invalid("validDays", $"Template '{id}': validDays is 1-3650, and validTo is not before validFrom.");
        }

        if (t.MaxIssued is < 1 || t.Budget is < 1)
        {
            return Invalid("maxIssued", $"Template '{id}': maxIssued and budget are at least 1.");
        }

        if (t.Budget is not null && t.FaceValue <= 0)
        {
            return Invalid("budget", $"Template '{id}': a budget needs a face value (amountOff, maxDiscount, or itemValue).");
        }

        return t.ReminderDaysBeforeExpiry is < 1 or > 60 ? Invalid("reminderDaysBeforeExpiry", $"Template '{id}': reminderDaysBeforeExpiry is 1-60.") : null;
    }

    private static DomainError Invalid(string field, string message) => DomainError.Invalid("config_invalid", field, message);

    [GeneratedRegex("^[a-z0-9-]{1,40}$")]
    private static partial Regex IdPattern();
}
