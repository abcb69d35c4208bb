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
public readonly record struct LedgerChange(long Points, long Principal, long Bonus, bool MayOverdrawPoints = false);
