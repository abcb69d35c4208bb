using System.Text.Json.Serialization;
using Loyalty.Domain.Auth;
using Loyalty.Domain.Common;
using Loyalty.Domain.Org;

namespace Loyalty.Domain.Approvals;

/// <summary>What an approval request asks to do.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ApprovalAction>))]
public enum ApprovalAction
{
    /// <summary>A manual points adjustment above the requester's authority; the amount is in points.</summary>
    PointsAdjustment,
    /// <summary>Paying a member's stored-value principal back (退储值); the amount is in fen.</summary>
    StoredValueRefund,
    /// <summary>Unfreezing a card; the amount is the account's stored value in fen.</summary>
    CardUnfreeze,
    /// <summary>A campaign's budget (a reactivation's cost cap); the amount is in fen.</summary>
    CampaignBudget,
}

/// <summary>A level of the chain that decides approvals.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ApprovalLevel>))]
public enum ApprovalLevel
{
    /// <summary>The store manager (店长) of the request's store.</summary>
    Store,
    /// <summary>The region manager (大区经理) of the store's region.</summary>
    Region,
    /// <summary>An HQ administrator (总部).</summary>
    Hq,
}

/// <summary>What happens when a level does not decide within its time limit.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<TimeoutRule>))]
public enum TimeoutRule
{
    /// <summary>The request moves up to the next level (or expires at the top).</summary>
    Escalate,
    /// <summary>The request expires; nothing is applied.</summary>
    Expire,
}

/// <summary>One level of an action's chain.</summary>
/// <param name="Level">Who decides.</param>
/// <param name="MaxAmount">The largest amount this level's approval settles; null = any amount (the top level).</param>
/// <param name="TimeLimitHours">How long the level has to decide (1-720 hours).</param>
/// <param name="OnTimeout">Escalate or expire when the time runs out.</param>
public sealed record LevelRule(ApprovalLevel Level, long? MaxAmount, int TimeLimitHours, TimeoutRule OnTimeout);

/// <summary>The approval rule of one action.</summary>
/// <param name="Action">The action.</param>
/// <param name="ApprovalAbove">
/// Amounts above this need approval; null = never. Points adjustments ignore it: the role limits of the
/// <c>adjustment-authority</c> section decide when they need approval.
/// </param>
/// <param name="Levels">The chain, store first, each level settling up to its <see cref="LevelRule.MaxAmount"/>.</param>
public sealed record ActionPolicy(ApprovalAction Action, long? ApprovalAbove, IReadOnlyList<LevelRule> Levels);

/// <summary>One stage of a request's route: a level, the org node whose manager decides, and its time limit.</summary>
/// <param name="Level">The deciding level.</param>
/// <param name="ScopeId">The store, region or HQ node whose manager decides.</param>
/// <param name="TimeLimitHours">Time to decide.</param>
/// <param name="OnTimeout">Escalate or expire.</param>
/// <param name="Settles">True when this level's approval settles the request (its limit covers the amount).</param>
public sealed record ApprovalStage(ApprovalLevel Level, string ScopeId, int TimeLimitHours, TimeoutRule OnTimeout, bool Settles);

/// <summary>
/// The chain's approval policy (审批): per action, when approval is needed and which levels decide, each with a time
/// limit and a rule for running out of time. A request goes up from the level above its requester (a till's request
/// starts with the store manager, a store manager's with the region, a region's with HQ) until a level whose limit
/// covers the amount; each level is decided by that level's manager within the request's store, never by the requester.
/// </summary>
public sealed record ApprovalPolicy(IReadOnlyList<ActionPolicy> Actions)
{
    /// <summary>Longest time limit of a level: 30 days.</summary>
    public const int MaxTimeLimitHours = 720;

    /// <summary>
    /// Points: store 500, region 5,000, HQ any (24/48/72 hours, escalating). Stored-value refunds above 500 yuan:
    /// store 2,000 yuan, region 10,000 yuan, HQ any. Unfreezing: no approval unless configured. Campaign budgets above
    /// 10,000 yuan: HQ.
    /// </summary>
    public static ApprovalPolicy Default { get; } = new(
    [
        new(ApprovalAction.PointsAdjustment, null,
        [
            new(ApprovalLevel.Store, 500, 24, TimeoutRule.Escalate),
            new(ApprovalLevel.Region, 5_000, 48, TimeoutRule.Escalate),
            new(ApprovalLevel.Hq, null, 72, TimeoutRule.Expire),
        ]),
        new(ApprovalAction.StoredValueRefund, 50_000,
        [
            new(ApprovalLevel.Store, 200_000, 24, TimeoutRule.Escalate),
            new(ApprovalLevel.Region, 1_000_000, 48, TimeoutRule.Escalate),
            new(ApprovalLevel.Hq, null, 72, TimeoutRule.Expire),
        ]),
        new(ApprovalAction.CardUnfreeze, null,
        [
            new(ApprovalLevel.Region, null, 24, TimeoutRule.Expire),
        ]),
        new(ApprovalAction.CampaignBudget, 1_000_000,
        [
            new(ApprovalLevel.Hq, null, 72, TimeoutRule.Expire),
        ]),
    ]);

    /// <summary>The rule of an action (the default's when the configured policy leaves it out).</summary>
    public ActionPolicy For(ApprovalAction action) =>
        Actions?.FirstOrDefault(a => a.Action == action) ?? Default.Actions.First(a => a.Action == action);

    /// <summary>
    /// True when <paramref name="amount"/> of a non-points action by <paramref name="requester"/> needs approval: it
    /// is above the action's threshold, and the requester is not a manager whose own level's limit covers it.
    /// </summary>
    public bool NeedsApproval(ApprovalAction action, long amount, Role requester)
    {
        var rule = For(action);
        return rule.ApprovalAbove is { } above && Math.Abs(amount) > above
            && !rule.Levels.Any(l => l.Level == DecidesAt(requester) && (l.MaxAmount is null || Math.Abs(amount) <= l.MaxAmount));
    }

    /// <summary>The level whose manager a role is, if any.</summary>
    public static ApprovalLevel? DecidesAt(Role role) => role switch
    {
        Role.StoreManager => ApprovalLevel.Store,
        Role.RegionManager => ApprovalLevel.Region,
        Role.HqAdmin => ApprovalLevel.Hq,
        _ => null,
    };

    /// <summary>The first level a request by <paramref name="requester"/> goes to: the level above the requester's own.</summary>
    public static ApprovalLevel FirstLevel(Role requester) => requester switch
    {
        Role.Terminal or Role.Shop => ApprovalLevel.Store,
        Role.StoreManager => ApprovalLevel.Region,
        _ => ApprovalLevel.Hq,
    };

    /// <summary>
    /// The route of a request for <paramref name="amount"/> made by <paramref name="requester"/> at
    /// <paramref name="nodeId"/> (a store, or HQ for chain-wide requests): every level from the first the requester
    /// goes to up to the top, the first one whose limit covers the amount marked as settling (escalation on timeout
    /// may pass it on to the levels above).
    /// </summary>
    public Result<IReadOnlyList<ApprovalStage>> Route(ApprovalAction action, long amount, Role requester, string nodeId, OrgTree org)
    {
        ArgumentNullException.ThrowIfNull(org);
        var node = org.Find(nodeId);
        if (node is null)
        {
            return DomainError.Invalid("scope_unknown", "storeId", $"No org node '{nodeId}'.");
        }

        var first = FirstLevel(requester);
        var stages = new List<ApprovalStage>();
        var settled = false;
        foreach (var level in For(action).Levels.Where(l => l.Level >= first).OrderBy(l => l.Level))
        {
            var scope = ScopeAt(level.Level, node, org);
            if (scope is null)
            {
                continue;
            }

            var settles = !settled && (level.MaxAmount is null || Math.Abs(amount) <= level.MaxAmount);
            settled |= settles;
            stages.Add(new ApprovalStage(level.Level, scope, level.TimeLimitHours, level.OnTimeout, settles));
        }

        return stages.Count == 0 || !settled
            ? new DomainError("approval_route_missing", $"The approval policy has no level that can approve this {action}.", ErrorKind.Unprocessable)
            : stages;
    }

    /// <summary>
    /// Whether <paramref name="decider"/> may decide a stage: the stage's manager role, a scope containing the stage's
    /// node, and not the requester.
    /// </summary>
    public static DomainError? CheckDecider(Principal decider, ApprovalStage stage, string requesterId, OrgTree org)
    {
        ArgumentNullException.ThrowIfNull(decider);
        ArgumentNullException.ThrowIfNull(stage);
        ArgumentNullException.ThrowIfNull(org);
        if (DecidesAt(decider.Role) != stage.Level)
        {
            return new DomainError("approval_level_mismatch", $"This request waits for the {stage.Level} level; a {decider.Role} cannot decide it.", ErrorKind.Forbidden);
        }

        if (!decider.InScope(org, stage.ScopeId))
        {
            return new DomainError("forbidden_scope", $"The request belongs to '{stage.ScopeId}', outside your scope.", ErrorKind.Forbidden);
        }

        return decider.Id == requesterId
            ? new DomainError("approval_own_request", "Nobody decides their own request.", ErrorKind.Forbidden)
            : null;
    }

    /// <summary>Checks the policy: each action once; levels rising with rising limits, the last one unlimited, time limits 1-720 hours.</summary>
    public DomainError? Check()
    {
        if (Actions is null || Actions.Any(a => a is null))
        {
            return Invalid("actions", "Give a list of action policies.");
        }

        foreach (var group in Actions.GroupBy(a => a.Action).Where(g => g.Count() > 1))
        {
            return Invalid("actions", $"{group.Key} appears more than once.");
        }

        foreach (var action in Actions)
        {
            if (!Enum.IsDefined(action.Action) || action.Levels is null || action.Levels.Count == 0 || action.Levels.Any(l => l is null))
            {
                return Invalid("levels", $"{action.Action}: give at least one level.");
            }

            if (action.ApprovalAbove is < 0)
            {
                return Invalid("approvalAbove", $"{action.Action}: approvalAbove is not negative.");
            }

            for (var i = 0; i < action.Levels.Count; i++)
            {
                var level = action.Levels[i];
                if (!Enum.IsDefined(level.Level) || !Enum.IsDefined(level.OnTimeout))
                {
                    return Invalid("levels", $"{action.Action}: unknown level or timeout rule.");
                }

                if (level.TimeLimitHours is < 1 or > MaxTimeLimitHours)
                {
                    return Invalid("timeLimitHours", $"{action.Action}: time limits are 1-{MaxTimeLimitHours} hours.");
                }

                if (i > 0 && (level.Level <= action.Levels[i - 1].Level || action.Levels[i - 1].MaxAmount is not { } below || level.MaxAmount is { } max && max <= below))
                {
                    return Invalid("levels", $"{action.Action}: levels go store, region, HQ, each with a higher limit than the one below and only the last unlimited.");
                }

                if (level.MaxAmount is < 0)
                {
                    return Invalid("maxAmount", $"{action.Action}: limits are not negative.");
                }
            }

            if (action.Levels[^1].MaxAmount is not null)
            {
                return Invalid("levels", $"{action.Action}: the last level has no limit, so every request has someone to settle it.");
            }
        }

        return null;
    }

    private static string? ScopeAt(ApprovalLevel level, OrgNode node, OrgTree org)
    {
        var kind = level switch
        {
            ApprovalLevel.Store => OrgNodeKind.Store,
            ApprovalLevel.Region => OrgNodeKind.Region,
            _ => OrgNodeKind.Hq,
        };
        for (var n = node; n is not null; n = n.ParentId is null ? null : org.Find(n.ParentId))
        {
            if (n.Kind == kind)
            {
                return n.Id;
            }
        }

        return null;
    }

    private static DomainError Invalid(string field, string message) => DomainError.Invalid("config_invalid", field, message);
}
