using Loyalty.Storage.Reports;
using Xunit;

namespace Loyalty.Storage.Tests.Reports;

public sealed class ReportShardTests
{
    [Theory]
    [InlineData("M0000000001AB", 0)]
    [InlineData("M00000000042", 2)]
    [InlineData("M7K2P9Q4R8T1X", 1)]
    public void ShardOf_IsFixedByTheIdAlone_InEveryProcess(string memberId, int shard)
    {
        // The values are FNV-1a worked out by hand, not by this process: a per-process randomised hash would miss them.
        Assert.Equal(shard, ReportProjector.ShardOf(memberId));
    }

    [Fact]
    public void ShardOf_SpreadsMembersOverEveryShard()
    {
        var counts = Enumerable.Range(0, 1_000).Select(i => ReportProjector.ShardOf($"M{i:D11}")).GroupBy(s => s).ToDictionary(g => g.Key, g => g.Count());

        Assert.Equal(ReportProjector.Shards, counts.Count);
        Assert.All(counts.Values, n => Assert.InRange(n, 200, 300));
    }
}
