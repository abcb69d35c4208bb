using Loyalty.Domain.Approvals;
using Loyalty.Domain.Auth;
using Xunit;

namespace Loyalty.Domain.Tests.Approvals;

public sealed class AuthorityUsageTests
{
    private static readonly DateOnly Today = new(2026, 12, 1);

    [Fact]
    public void Add_CountsAbsoluteAmountsPerAction_AndRoundTrips()
    {
        var usage = AuthorityUsage.Parse(null, Today).Add(ApprovalAction.PointsAdjustment, -300).Add(ApprovalAction.PointsAdjustment, 200).Add(ApprovalAction.StoredValueRefund, 50_000);

        var read = AuthorityUsage.Parse(usage.ToJson(), Today);

        Assert.Equal(500, read.Of(ApprovalAction.PointsAdjustment));
        Assert.Equal(50_000, read.Of(ApprovalAction.StoredValueRefund));
        Assert.Equal(0, read.Of(ApprovalAction.CardUnfreeze));
    }

    [Theory]
    [InlineData("""{"day":"2026-11-30","storedValueRefund":50000}""")]
    [InlineData("not json")]
    [InlineData("")]
    public void Parse_AnotherDayOrUnreadable_StartsFromZero(string json) =>
        Assert.Equal(0, AuthorityUsage.Parse(json, Today).Of(ApprovalAction.StoredValueRefund));

    [Theory]
    [InlineData(0, 300, 200, false)]
    [InlineData(300, 0, 201, true)]
    [InlineData(0, 300, 201, true)]
    public void Exceeds_WhenTheMemberOrTheOperatorWouldGoAboveTheLimit(long member, long operatorUsed, long amount, bool exceeds)
    {
        var window = new DailyAuthority(Role.StoreManager, AuthorityUsage.Parse(null, Today).Add(ApprovalAction.PointsAdjustment, operatorUsed));
        var memberUsage = AuthorityUsage.Parse(null, Today).Add(ApprovalAction.PointsAdjustment, member);

        Assert.Equal(exceeds, window.Exceeds(ApprovalAction.PointsAdjustment, amount, memberUsage, total => total <= 500));
    }
}
