using Loyalty.Domain.Auth;
using Loyalty.Domain.Common;
using Loyalty.Domain.Programme;

namespace Loyalty.Domain.Ledger;

/// <summary>Top-up, redemption and manual adjustment decisions.</summary>
public static class PointsOperations
{
    /// <summary>Longest adjustment reason.</summary>
    public const int MaxReasonLength = 200;

    /// <summary>Decides a top-up of <paramref name="amount"/> fen at <paramref name="storeId"/> by <paramref name="principalId"/> on <paramref name="localDate"/>.</summary>
    public static Result<LedgerChange> TopUp(long amount, TopUpRules rules, string storeId, string principalId, DateOnly localDate, Org.OrgTree? org = null)
    {
        ArgumentNullException.ThrowIfNull(rules);
        if (amount < rules.MinAmount || amount > rules.MaxAmount)
        {
            return DomainError.Invalid("amount_invalid", "amount", $"A top-up is {rules.MinAmount}-{rules.MaxAmount} fen.");
        }

        if (rules.AllowedStores.Count > 0 && !rules.AllowedStores.Contains(storeId, StringComparer.Ordinal))
        {
            return new DomainError("top_up_not_allowed", $"Store '{storeId}' is not designated for top-ups.", ErrorKind.Forbidden, "storeId");
        }

        if (rules.AllowedPrincipals.Count > 0 && !rules.AllowedPrincipals.Contains(principalId, StringComparer.Ordinal))
        {
            return new DomainError("top_up_not_allowed", "This operator is not designated for top-ups.", ErrorKind.Forbidden);
        }

        return new LedgerChange(0, amount, rules.BonusFor(amount, localDate, storeId, org));
    }

    /// <summary>Decides a redemption of a reward or a number of points.</summary>
    public static Result<(long Points, Reward? Reward)> Redemption(string? rewardId, long? points, IReadOnlyList<Reward> catalogue)
    {
        ArgumentNullException.ThrowIfNull(catalogue);
        if ((rewardId is null) == (points is null))
        {
            return DomainError.Invalid("redemption_invalid", "rewardId", "Give either a rewardId or a number of points.");
        }

        if (rewardId is not null)
        {
            var reward = catalogue.FirstOrDefault(r => r.RewardId == rewardId);
            return reward is null
                ? DomainError.Invalid("reward_unknown", "rewardId", $"No reward '{rewardId}' in the catalogue.")
                : (reward.Points, reward);
        }

        return points is { } p and >= 1 and <= 100_000_000
            ? (p, (Reward?)null)
            : DomainError.Invalid("points_invalid", "points", "Redeem between 1 and 100000000 points.");
    }

    /// <summary>Decides a manual adjustment by a caller of <paramref name="role"/>.</summary>
    public static Result<LedgerChange> Adjustment(long points, string? reason, Role role, AdjustmentAuthority authority)
    {
        ArgumentNullException.ThrowIfNull(authority);
        if (points == 0 || Math.Abs(points) > 100_000_000)
        {
            return DomainError.Invalid("points_invalid", "points", "Adjust by a non-zero number of points.");
        }

        if (string.IsNullOrWhiteSpace(reason) || reason.Length > MaxReasonLength)
        {
            return DomainError.Invalid("reason_required", "reason", $"Give a reason of 1-{MaxReasonLength} characters.");
        }

        var limit = authority.LimitFor(role);
        return Math.Abs(points) > limit
            ? new DomainError("approval_required", $"Adjustments above {limit} points need approval.", ErrorKind.Forbidden, "points")
            : new LedgerChange(points, 0, 0);
    }
}
