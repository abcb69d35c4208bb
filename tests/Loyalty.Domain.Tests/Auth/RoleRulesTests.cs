using Loyalty.Domain.Auth;
using Loyalty.Domain.Org;
using Loyalty.Domain.Tests.Org;
using Xunit;

namespace Loyalty.Domain.Tests.Auth;

public sealed class RoleRulesTests
{
    private static readonly OrgTree Org = OrgTree.Create(OrgTreeTests.Chain).Value!;

    [Theory]
    [InlineData(Role.HqAdmin, "hq", Role.RegionManager, "south", null)]
    [InlineData(Role.HqAdmin, "hq", Role.Ops, "hq", null)]
    [InlineData(Role.RegionManager, "east", Role.StoreManager, "sh-001", null)]
    [InlineData(Role.RegionManager, "east", Role.StoreManager, "gz-001", "forbidden_scope")]
    [InlineData(Role.RegionManager, "east", Role.RegionManager, "east", "forbidden_role")]
    [InlineData(Role.StoreManager, "sh-001", Role.Terminal, "sh-001", null)]
    [InlineData(Role.StoreManager, "sh-001", Role.Terminal, "gz-001", "forbidden_scope")]
    [InlineData(Role.StoreManager, "sh-001", Role.StoreManager, "sh-001", "forbidden_role")]
    [InlineData(Role.Terminal, "sh-001", Role.Terminal, "sh-001", "forbidden_role")]
    [InlineData(Role.Ops, "hq", Role.Terminal, "sh-001", "forbidden_role")]
    [InlineData(Role.HqAdmin, "hq", Role.Terminal, "east", "scope_kind_mismatch")]
    [InlineData(Role.HqAdmin, "hq", Role.HqAdmin, "sh-001", "scope_kind_mismatch")]
    [InlineData(Role.HqAdmin, "hq", Role.Terminal, "nowhere", "scope_unknown")]
    public void CheckCanCreate_Matrix(Role callerRole, string callerScope, Role role, string scope, string? expected)
    {
        var caller = new Principal("p", callerRole, callerScope);

        Assert.Equal(expected, RoleRules.CheckCanCreate(caller, Org, role, scope)?.Code);
    }
}
