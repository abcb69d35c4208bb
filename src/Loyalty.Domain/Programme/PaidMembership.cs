using Loyalty.Domain.Common;

namespace Loyalty.Domain.Programme;

/// <summary>A paid membership plan (付费会员): a fee for a tier's benefits during a number of months.</summary>
/// <param name="PlanId">Stable id, e.g. <c>gold-year</c>.</param>
/// <param name="Name">Display name.</param>
/// <param name="Months">Validity in months (1-36).</param>
/// <param name="Price">Fee in fen.</param>
/// <param name="Tier">The tier whose benefits the plan gives while valid.</param>
public sealed record MembershipPlan(string PlanId, string Name, int Months, long Price, string Tier);

/// <summary>The paid-membership section: the plans on sale.</summary>
public sealed record PaidMembershipRules(IReadOnlyList<MembershipPlan> Plans)
{
    /// <summary>No plans.</summary>
    public static PaidMembershipRules Default { get; } = new([]);

    /// <summary>Validates plans against the tier codes.</summary>
    public DomainError? Check(IReadOnlyList<TierRule> tiers)
    {
        ArgumentNullException.ThrowIfNull(tiers);
        if (Plans is null || Plans.Select(p => p.PlanId).Distinct(StringComparer.Ordinal).Count() != Plans.Count)
        {
            return DomainError.Invalid("config_invalid", "planId", "Plans have unique ids.");
        }

        foreach (var p in Plans)
        {
            if (string.IsNullOrWhiteSpace(p.PlanId) || string.IsNullOrWhiteSpace(p.Name) || p.Months is < 1 or > 36 || p.Price < 0)
            {
                return DomainError.Invalid("config_invalid", "months", $"Plan '{p.PlanId}': a name, months 1-36 and a price of at least 0.");
            }

            if (tiers.All(t => t.Code != p.Tier))
            {
                return DomainError.Invalid("config_invalid", "tier", $"Plan '{p.PlanId}': no tier '{p.Tier}'.");
            }
        }

        return null;
    }

    /// <summary>
    /// The tier whose benefits apply: the tier the member earned, or the paid tier while the membership is valid,
    /// whichever is higher.
    /// </summary>
    public static string Effective(IReadOnlyList<TierRule> tiers, string earned, string? paidTier, DateTimeOffset? paidUntil, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(tiers);
        if (paidTier is null || paidUntil is not { } until || until <= now)
        {
            return earned;
        }

        return TierProgress.IndexOf(tiers, paidTier) > TierProgress.IndexOf(tiers, earned) ? paidTier : earned;
    }
}
