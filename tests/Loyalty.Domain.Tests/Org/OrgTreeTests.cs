using Loyalty.Domain.Org;
using Xunit;

namespace Loyalty.Domain.Tests.Org;

public sealed class OrgTreeTests
{
    internal static readonly OrgNode[] Chain =
    [
        new("hq", OrgNodeKind.Hq, "HQ", null),
        new("east", OrgNodeKind.Region, "East", "hq"),
        new("south", OrgNodeKind.Region, "South", "hq"),
        new("sh-001", OrgNodeKind.Store, "Shanghai 1", "east"),
        new("gz-001", OrgNodeKind.Store, "Guangzhou 1", "south"),
    ];

    [Fact]
    public void Contains_FollowsTheTreeUpwards()
    {
        var tree = OrgTree.Create(Chain).Value!;

        Assert.True(tree.Contains("hq", "gz-001"));
        Assert.True(tree.Contains("east", "sh-001"));
        Assert.True(tree.Contains("sh-001", "sh-001"));
        Assert.False(tree.Contains("east", "gz-001"));
        Assert.False(tree.Contains("sh-001", "east"));
        Assert.False(tree.Contains("east", "nowhere"));
    }

    [Fact]
    public void Nodes_ListHqThenRegionsThenStores()
    {
        var tree = OrgTree.Create([.. Chain.Reverse()]).Value!;

        Assert.Equal(["hq", "east", "south", "gz-001", "sh-001"], tree.Nodes.Select(n => n.Id));
    }

    [Fact]
    public void Create_TwoHqs_Rejected() =>
        Assert.Equal("org_hq_invalid", OrgTree.Create([.. Chain, new("hq2", OrgNodeKind.Hq, "Other", null)]).Error!.Code);

    [Fact]
    public void Create_NoHq_Rejected() =>
        Assert.Equal("org_hq_invalid", OrgTree.Create([.. Chain.Skip(1)]).Error!.Code);

    [Fact]
    public void Create_StoreUnderHq_Rejected() =>
        Assert.Equal("org_parent_invalid", OrgTree.Create([.. Chain, new("x-1", OrgNodeKind.Store, "X", "hq")]).Error!.Code);

    [Fact]
    public void Create_RegionUnderRegion_Rejected() =>
        Assert.Equal("org_parent_invalid", OrgTree.Create([.. Chain, new("sub", OrgNodeKind.Region, "Sub", "east")]).Error!.Code);

    [Fact]
    public void Create_UnknownParent_Rejected() =>
        Assert.Equal("org_parent_invalid", OrgTree.Create([.. Chain, new("x-1", OrgNodeKind.Store, "X", "west")]).Error!.Code);

    [Fact]
    public void Create_DuplicateId_Rejected() =>
        Assert.Equal("org_duplicate_id", OrgTree.Create([.. Chain, new("sh-001", OrgNodeKind.Store, "Again", "east")]).Error!.Code);

    [Theory]
    [InlineData("Upper")]
    [InlineData("has space")]
    [InlineData("")]
    [InlineData("-leading")]
    public void Create_BadId_Rejected(string id) =>
        Assert.Equal("org_id_invalid", OrgTree.Create([.. Chain, new(id, OrgNodeKind.Store, "X", "east")]).Error!.Code);

    [Fact]
    public void Create_EmptyName_Rejected() =>
        Assert.Equal("org_name_invalid", OrgTree.Create([.. Chain, new("x-1", OrgNodeKind.Store, " ", "east")]).Error!.Code);
}
