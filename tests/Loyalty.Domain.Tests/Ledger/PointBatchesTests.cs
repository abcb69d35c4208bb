using FsCheck;
using FsCheck.Fluent;
using Loyalty.Domain.Ledger;
using Xunit;

namespace Loyalty.Domain.Tests.Ledger;

public sealed class PointBatchesTests
{
    private static readonly DateOnly Jan = new(2026, 1, 1);
    private static readonly DateOnly Mar = new(2026, 3, 1);
    private static readonly DateOnly May = new(2026, 5, 1);

    [Fact]
    public void Spending_TakesTheOldestMonthFirst()
    {
        var batches = PointBatches.Parse(null, 0, Jan).Apply(0, 100, 0, Jan).Apply(100, 50, 0, Mar).Apply(150, 0, 120, May);

        Assert.Equal(new Dictionary<string, long> { ["2026-03"] = 30 }, batches.Months);
    }

    [Fact]
    public void AClawBackBeyondTheBatches_IsADebt_ThatTheNextEarningRepaysFirst()
    {
        var batches = PointBatches.Parse(null, 0, Jan).Apply(0, 30, 0, Jan).Apply(30, 0, 80, Mar); // balance -50
        Assert.Empty(batches.Months);

        var repaid = batches.Apply(-50, 70, 0, May); // balance 20
        Assert.Equal(new Dictionary<string, long> { ["2026-05"] = 20 }, repaid.Months);
    }

    [Fact]
    public void ASaleThatRedeemsAndEarns_TakesFromTheOldestAndAddsToThisMonth()
    {
        var batches = PointBatches.Parse(null, 0, Jan).Apply(0, 100, 0, Jan);
        var change = new LedgerChange(50 - 100, 0, 0, PointsSpent: 100);

        var after = batches.Apply(100, change.PointsAdded, change.PointsTaken, May);

        Assert.Equal(new Dictionary<string, long> { ["2026-05"] = 50 }, after.Months);
    }

    [Fact]
    public void LegacyAccounts_WithPointsButNoBatches_StartAsOneBatch()
    {
        Assert.Equal(new Dictionary<string, long> { ["2026-05"] = 400 }, PointBatches.Parse(null, 400, May).Months);
        Assert.Empty(PointBatches.Parse(null, -5, May).Months);
    }

    [Theory]
    [InlineData("2026-01-01", "2026-12-31")]
    [InlineData("2026-02-01", "2027-01-31")]
    public void Policy_PointsLastUntilTheEndOfTheTwelfthMonth(string earned, string lastDay)
    {
        var policy = PointsExpiryPolicy.Default;

        Assert.Equal(DateOnly.Parse(lastDay, System.Globalization.CultureInfo.InvariantCulture), policy.LastDay(DateOnly.Parse(earned, System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(new DateOnly(2025, 12, 1), policy.ExpiredThrough(new DateOnly(2026, 12, 31)));
        Assert.Equal(new DateOnly(2026, 1, 1), policy.ExpiredThrough(new DateOnly(2027, 1, 1)));
    }

    [Fact]
    public void Property_BatchesAlwaysAddUpToThePositiveBalance()
    {
        // A random history of earnings, spends within the balance, and claw-backs that may overdraw.
        var op = Gen.Choose(0, 2).SelectMany(kind => Gen.Choose(0, 500).Select(n => (kind, n)));
        var history = Gen.ListOf(op).Select(l => l.ToList());
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(500), Prop.ForAll(history.ToArbitrary(), ops =>
        {
            var balance = 0L;
            var batches = PointBatches.Parse(null, 0, Jan);
            var month = Jan;
            foreach (var (kind, n) in ops)
            {
                var change = kind switch
                {
                    0 => new LedgerChange(n, 0, 0),
                    1 => new LedgerChange(-Math.Min(n, Math.Max(0, balance)), 0, 0),
                    _ => new LedgerChange(-n, 0, 0, MayOverdrawPoints: true),
                };
                batches = batches.Apply(balance, change.PointsAdded, change.PointsTaken, month);
                balance += change.Points;
                month = month.AddMonths(n % 2);
                if (batches.Total != Math.Max(0, balance) || batches.Months.Values.Any(v => v <= 0))
                {
                    return false;
                }
            }

            return true;
        }));
    }
}
