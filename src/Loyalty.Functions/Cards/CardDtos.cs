using Loyalty.Domain.Members;
using Loyalty.Functions.Members;

namespace Loyalty.Functions.Cards;

/// <summary>Body of <c>POST /api/members/{memberId}/cards</c>: a linked, supplementary or group card on the same account.</summary>
internal sealed record IssueCardRequest(CardType? CardType, long? DailyLimit, long? MonthlyLimit);

/// <summary>Body of <c>POST /api/cards/{cardNumber}/{op}</c> (optional).</summary>
internal sealed record CardOperationRequest(string? Reason);

/// <summary>The answer of a card operation: the card as it is now, and the new card of a replacement.</summary>
internal sealed record CardOperationResult(string MemberId, string Operation, CardView Card, CardView? NewCard);
