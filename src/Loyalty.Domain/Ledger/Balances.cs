using Loyalty.Domain.Common;

namespace Loyalty.Domain.Ledger;

/// <summary>A member's balances: points, and stored value as principal and bonus (fen).</summary>
public readonly record struct Balances(long Points, long Principal, long Bonus)
{
    /// <summary>Stored value in total.</summary>
    public long StoredValue => Principal + Bonus;

    /// <summary>
    /// Applies a change. Stored value can never go below zero; points can only when the change is a refund's
    /// claw-back (the member already spent the points), and later earnings then repay the debt first.
    /// </summary>
    public Result<Balances> Apply(LedgerChange change)
    {
        var next = new Balances(Points + change.Points, Principal + change.Principal, Bonus + change.Bonus);
        if (next.Principal < 0 || next.Bonus < 0)
        {
            return new DomainError("insufficient_stored_value", "Not enough stored value.", ErrorKind.Unprocessable);
        }

        if (next.Points < 0 && change.Points < 0 && !change.MayOverdrawPoints)
        {
            return new DomainError("insufficient_points", "Not enough points.", ErrorKind.Unprocessable);
        }

        return next;
    }
}

/// <summary>What one operation does to the balances.</summary>
/// <param name="Points">Points delta.</param>
/// <param name="Principal">Stored-value principal delta (fen).</param>
/// <param name="Bonus">Stored-value bonus delta (fen).</param>
/// <param name="MayOverdrawPoints">True only for a refund's claw-back of earned points.</param>
/// <param name="PointsSpent">The points taken out within <paramref name="Points"/> when the same entry also adds some
/// (a sale that redeems and earns: Points = earned - spent); spent points come from the oldest batches, earned ones go
/// to the current month.</param>
public readonly record struct LedgerChange(long Points, long Principal, long Bonus, bool MayOverdrawPoints = false, long PointsSpent = 0)
{
    /// <summary>Points taken by the entry (gross).</summary>
    public long PointsTaken => Math.Max(PointsSpent, -Points);

    /// <summary>Points added by the entry (gross): Points = added - taken.</summary>
    public long PointsAdded => Points + PointsTaken;
}
