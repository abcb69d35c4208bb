using Loyalty.Domain.Approvals;
using Loyalty.Domain.Auth;
using Loyalty.Domain.Org;
using Loyalty.Domain.Tests.Org;
using Xunit;

namespace Loyalty.Domain.Tests.Approvals;

public sealed class ApprovalPolicyTests
{
    private static readonly OrgTree Org = OrgTree.Create(OrgTreeTests.Chain).Value!;
    private static readonly ApprovalPolicy Policy = ApprovalPolicy.Default;

    [Theory]
    [InlineData(Role.Terminal, 300, "Store:sh-001:settles")]
    [InlineData(Role.Terminal, 800, "Store:sh-001,Region:east:settles")]
    [InlineData(Role.Terminal, 9_000, "Store:sh-001,Region:east,Hq:hq:settles")]
    [InlineData(Role.StoreManager, 800, "Region:east:settles")]
    [InlineData(Role.StoreManager, -800, "Region:east:settles")]
    [InlineData(Role.RegionManager, 9_000, "Hq:hq:settles")]
    [InlineData(Role.HqAdmin, 90_000, "Hq:hq:settles")]
    public void Route_StartsAboveTheRequesterAndStopsSettlingAtTheCoveringLevel(Role requester, long points, string expected)
    {
        var route = Policy.Route(ApprovalAction.PointsAdjustment, points, requester, "sh-001", Org).Value!;

        var settling = route.Single(s => s.Settles);
        var upTo = route.TakeWhile(s => !s.Settles).Append(settling);
        Assert.Equal(expected, string.Join(',', upTo.Select(s => $"{s.Level}:{s.ScopeId}")) + ":settles");

        // Levels above the settling one stay on the route, for escalation on timeout.
        Assert.Equal(route.Count, route.Select(s => s.Level).Distinct().Count());
        Assert.Equal(ApprovalLevel.Hq, route[^1].Level);
    }

    [Fact]
    public void Route_OfAnUnknownNode_IsRefused()
    {
        var route = Policy.Route(ApprovalAction.PointsAdjustment, 800, Role.Terminal, "nowhere", Org);

        Assert.Equal("scope_unknown", route.Error!.Code);
    }

    [Fact]
    public void Route_WithNoLevelAboveTheRequester_IsRefused()
    {
        var storeOnly = new ApprovalPolicy([new(ApprovalAction.StoredValueRefund, 0, [new(ApprovalLevel.Store, null, 24, TimeoutRule.Expire)])]);

        var route = storeOnly.Route(ApprovalAction.StoredValueRefund, 100, Role.StoreManager, "sh-001", Org);

        Assert.Equal("approval_route_missing", route.Error!.Code);
    }

    [Theory]
    [InlineData(ApprovalAction.StoredValueRefund, 50_000, Role.Terminal, false)]
    [InlineData(ApprovalAction.StoredValueRefund, 50_001, Role.Terminal, true)]
    [InlineData(ApprovalAction.StoredValueRefund, 150_000, Role.StoreManager, false)]
    [InlineData(ApprovalAction.StoredValueRefund, 250_000, Role.StoreManager, true)]
    [InlineData(ApprovalAction.StoredValueRefund, 5_000_000, Role.HqAdmin, false)]
    [InlineData(ApprovalAction.CardUnfreeze, 9_999_999, Role.StoreManager, false)]
    [InlineData(ApprovalAction.CampaignBudget, 1_000_001, Role.Ops, true)]
    [InlineData(ApprovalAction.CampaignBudget, 1_000_001, Role.HqAdmin, false)]
    [InlineData(ApprovalAction.CampaignBudget, 1_000_000, Role.Ops, false)]
    public void NeedsApproval_AboveTheThresholdUnlessTheRequestersOwnLevelCoversIt(ApprovalAction action, long amount, Role requester, bool expected)
    {
        Assert.Equal(expected, Policy.NeedsApproval(action, amount, requester));
    }

    [Fact]
    public void CheckDecider_WantsTheStagesRoleInScopeAndNotTheRequester()
    {
        var stage = new ApprovalStage(ApprovalLevel.Store, "sh-001", 24, TimeoutRule.Escalate, false);

        Assert.Null(ApprovalPolicy.CheckDecider(new Principal("m1", Role.StoreManager, "sh-001"), stage, "t1", Org));
        Assert.Equal("forbidden_scope", ApprovalPolicy.CheckDecider(new Principal("m2", Role.StoreManager, "gz-001"), stage, "t1", Org)!.Code);
        Assert.Equal("approval_level_mismatch", ApprovalPolicy.CheckDecider(new Principal("r1", Role.RegionManager, "east"), stage, "t1", Org)!.Code);
        Assert.Equal("approval_level_mismatch", ApprovalPolicy.CheckDecider(new Principal("t2", Role.Terminal, "sh-001"), stage, "t1", Org)!.Code);
        Assert.Equal("approval_own_request", ApprovalPolicy.CheckDecider(new Principal("m1", Role.StoreManager, "sh-001"), stage, "m1", Org)!.Code);

        var region = stage with { Level = ApprovalLevel.Region, ScopeId = "east" };
        Assert.Null(ApprovalPolicy.CheckDecider(new Principal("r1", Role.RegionManager, "east"), region, "t1", Org));
        Assert.Equal("forbidden_scope", ApprovalPolicy.CheckDecider(new Principal("r2", Role.RegionManager, "south"), region, "t1", Org)!.Code);
    }

    [Fact]
    public void Check_AcceptsTheDefault()
    {
        Assert.Null(ApprovalPolicy.Default.Check());
    }

    public static TheoryData<string, ApprovalPolicy> BrokenPolicies => new()
    {
        { "duplicate action", new ApprovalPolicy([Rule(), Rule()]) },
        { "no levels", new ApprovalPolicy([Rule() with { Levels = [] }]) },
        { "negative threshold", new ApprovalPolicy([Rule() with { ApprovalAbove = -1 }]) },
        { "time limit 0", new ApprovalPolicy([Rule(new LevelRule(ApprovalLevel.Hq, null, 0, TimeoutRule.Expire))]) },
        { "time limit too long", new ApprovalPolicy([Rule(new LevelRule(ApprovalLevel.Hq, null, 721, TimeoutRule.Expire))]) },
        { "levels out of order", new ApprovalPolicy([Rule(new LevelRule(ApprovalLevel.Region, 100, 24, TimeoutRule.Escalate), new LevelRule(ApprovalLevel.Store, null, 24, TimeoutRule.Expire))]) },
        { "limits not rising", new ApprovalPolicy([Rule(new LevelRule(ApprovalLevel.Store, 500, 24, TimeoutRule.Escalate), new LevelRule(ApprovalLevel.Region, 500, 24, TimeoutRule.Escalate), new LevelRule(ApprovalLevel.Hq, null, 24, TimeoutRule.Expire))]) },
        { "unlimited below the top", new ApprovalPolicy([Rule(new LevelRule(ApprovalLevel.Store, null, 24, TimeoutRule.Escalate), new LevelRule(ApprovalLevel.Hq, null, 24, TimeoutRule.Expire))]) },
        { "limited top", new ApprovalPolicy([Rule(new LevelRule(ApprovalLevel.Store, 500, 24, TimeoutRule.Escalate))]) },
    };

    [Theory]
    [MemberData(nameof(BrokenPolicies))]
    public void Check_RefusesBrokenPolicies(string why, ApprovalPolicy policy)
    {
        var error = policy.Check();

        Assert.True(error is { Code: "config_invalid" }, why);
    }

    private static ActionPolicy Rule(params LevelRule[] levels) =>
        new(ApprovalAction.StoredValueRefund, 0, levels.Length == 0 ? [new(ApprovalLevel.Hq, null, 24, TimeoutRule.Expire)] : levels);
}
