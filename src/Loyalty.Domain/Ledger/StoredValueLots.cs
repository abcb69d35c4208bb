using System.Text.Json;

namespace Loyalty.Domain.Ledger;

/// <summary>One lot of stored value: what is left of one credit (a top-up with its bonus, or value restored by a refund).</summary>
/// <param name="Principal">Principal left, in fen.</param>
/// <param name="Bonus">Bonus left, in fen.</param>
public sealed record StoredValueLot(long Principal, long Bonus);

/// <summary>
/// A member's stored value by lot, oldest first, kept on the account row so that bonus follows the principal it came
/// with. Every credit (a top-up with its bonus, value a refund restores) adds a lot; spending takes principal and bonus
/// each from the oldest lot that still has some. Refunding principal (<see cref="RefundPrincipal"/>) takes it from
/// the oldest lots first and, from each, the same share of that lot's bonus: half a lot's principal takes half its
/// bonus (rounded down), all of it takes all. The lots always add up to the balances.
/// </summary>
public sealed class StoredValueLots
{
    /// <summary>Lots kept at most; beyond it the two oldest are merged (their bonus then follows their joint principal).</summary>
    public const int MaxLots = 64;

    private readonly List<StoredValueLot> _lots;

    private StoredValueLots(List<StoredValueLot> lots) => _lots = lots;

    /// <summary>The lots, oldest first.</summary>
    public IReadOnlyList<StoredValueLot> Lots => _lots;

    /// <summary>Principal of all lots.</summary>
    public long Principal => _lots.Sum(l => l.Principal);

    /// <summary>Bonus of all lots.</summary>
    public long Bonus => _lots.Sum(l => l.Bonus);

    /// <summary>
    /// Reads stored lots. Lots that are missing (an account from before lots were kept) or do not add up to the
    /// balances are replaced by one lot holding the balances.
    /// </summary>
    public static StoredValueLots Parse(string? json, long principal, long bonus)
    {
        List<StoredValueLot> lots = [];
        if (!string.IsNullOrEmpty(json))
        {
            try
            {
                lots = [.. (JsonSerializer.Deserialize<long[][]>(json) ?? []).Where(l => l.Length == 2).Select(l => new StoredValueLot(l[0], l[1]))];
            }
            catch (JsonException)
            {
                lots = [];
            }
        }

        var parsed = new StoredValueLots(lots);
        if (lots.Any(l => l.Principal < 0 || l.Bonus < 0) || parsed.Principal != principal || parsed.Bonus != bonus)
        {
            parsed = new StoredValueLots(principal > 0 || bonus > 0 ? [new StoredValueLot(Math.Max(0, principal), Math.Max(0, bonus))] : []);
        }

        return parsed;
    }

    /// <summary>What stored lots add up to, as written (no repair); null when they cannot be read.</summary>
    public static (long Principal, long Bonus)? Sums(string json)
    {
        try
        {
            var lots = JsonSerializer.Deserialize<long[][]>(json) ?? [];
            return lots.All(l => l.Length == 2) ? (lots.Sum(l => l[0]), lots.Sum(l => l[1])) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The lots after a ledger change: amounts taken oldest first, amounts credited as a new lot.</summary>
    public StoredValueLots Apply(long principalChange, long bonusChange)
    {
        var lots = new List<StoredValueLot>(_lots);
        Take(lots, -Math.Min(0, principalChange), principal: true);
        Take(lots, -Math.Min(0, bonusChange), principal: false);
        if (principalChange > 0 || bonusChange > 0)
        {
            lots.Add(new StoredValueLot(Math.Max(0, principalChange), Math.Max(0, bonusChange)));
        }

        return Compact(lots);
    }

    /// <summary>
    /// Refunds <paramref name="amount"/> of principal, oldest lot first, taking from each lot the share of its bonus
    /// that the refund takes of its principal. Returns the bonus taken back and the lots after.
    /// </summary>
    public (long BonusTakenBack, StoredValueLots After) RefundPrincipal(long amount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(amount);
        var lots = new List<StoredValueLot>(_lots.Count);
        var left = amount;
        long bonus = 0;
        foreach (var lot in _lots)
        {
            var refunded = Math.Min(left, lot.Principal);
            if (refunded == 0)
            {
                lots.Add(lot);
                continue;
            }

            // Whole lots give all their bonus back; a part gives its share, rounded down (in the member's favour).
            var taken = refunded == lot.Principal ? lot.Bonus : (long)(Int128.CreateChecked(lot.Bonus) * refunded / lot.Principal);
            left -= refunded;
            bonus += taken;
            lots.Add(new StoredValueLot(lot.Principal - refunded, lot.Bonus - taken));
        }

        return (bonus, Compact(lots));
    }

    /// <summary>The lots as stored: <c>[[principal,bonus],...]</c>, oldest first.</summary>
    public string ToJson() => JsonSerializer.Serialize(_lots.Select(l => new[] { l.Principal, l.Bonus }));

    private static void Take(List<StoredValueLot> lots, long amount, bool principal)
    {
        for (var i = 0; i < lots.Count && amount > 0; i++)
        {
            var has = principal ? lots[i].Principal : lots[i].Bonus;
            var taken = Math.Min(has, amount);
            amount -= taken;
            lots[i] = principal ? lots[i] with { Principal = has - taken } : lots[i] with { Bonus = has - taken };
        }
    }

    private static StoredValueLots Compact(List<StoredValueLot> lots)
    {
        lots.RemoveAll(l => l.Principal == 0 && l.Bonus == 0);
        while (lots.Count > MaxLots)
        {
            lots[1] = new StoredValueLot(lots[0].Principal + lots[1].Principal, lots[0].Bonus + lots[1].Bonus);
            lots.RemoveAt(0);
        }

        return new StoredValueLots(lots);
    }
}
