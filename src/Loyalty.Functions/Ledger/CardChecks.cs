using Loyalty.Domain.Cards;
using Loyalty.Domain.Common;
using Loyalty.Domain.Members;
using Loyalty.Storage.Ledger;
using Loyalty.Storage.Members;

namespace Loyalty.Functions.Ledger;

/// <summary>
/// Whether a member can pay, top up or redeem now: through a named card, that card must be active; by member id,
/// the account must still have an active card (a member whose only card is lost or frozen is protected too).
/// </summary>
internal static class CardChecks
{
    public static async Task<Result<MemberCard?>> CheckAsync(MemberStore members, AccountState account, string? cardNumber, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(account);
        if (cardNumber is null)
        {
            return account.ActiveCards > 0
                ? Result<MemberCard?>.Ok(null)
                : new DomainError("no_active_card", "The member has no active card (lost, frozen or cancelled).", ErrorKind.Conflict);
        }

        var card = await members.GetCardAsync(account.MemberId, cardNumber, cancellationToken);
        if (card is null)
        {
            return DomainError.Invalid("card_not_on_account", "cardNumber", "The card does not belong to this member.");
        }

        return CardStateMachine.CheckUsable(card.Status) is { } error ? error : card;
    }
}
