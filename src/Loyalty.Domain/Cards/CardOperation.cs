using Loyalty.Domain.Common;
using Loyalty.Domain.Members;

namespace Loyalty.Domain.Cards;

/// <summary>Card operations (金融操作).</summary>
public enum CardOperation
{
    /// <summary>挂失.</summary>
    ReportLost,
    /// <summary>取消挂失.</summary>
    CancelLost,
    /// <summary>冻结.</summary>
    Freeze,
    /// <summary>解冻.</summary>
    Unfreeze,
    /// <summary>补卡/换卡: a new number, the old one dead, the balance kept.</summary>
    Replace,
    /// <summary>注销.</summary>
    Cancel,
}

/// <summary>The card state machine.</summary>
public static class CardStateMachine
{
    /// <summary>Parses the route form (<c>report-lost</c>, <c>cancel-lost</c>, ...).</summary>
    public static CardOperation? ParseRoute(string? op) => op switch
    {
        "report-lost" => CardOperation.ReportLost,
        "cancel-lost" => CardOperation.CancelLost,
        "freeze" => CardOperation.Freeze,
        "unfreeze" => CardOperation.Unfreeze,
        "replace" => CardOperation.Replace,
        "cancel" => CardOperation.Cancel,
        _ => null,
    };

    /// <summary>The card's status after <paramref name="operation"/>, or why it cannot be done.</summary>
    public static Result<CardStatus> Apply(CardStatus current, CardOperation operation) => (operation, current) switch
    {
        (_, CardStatus.Cancelled) => new DomainError("card_cancelled", "The card is cancelled.", ErrorKind.Conflict),
        (CardOperation.ReportLost, CardStatus.Active or CardStatus.Frozen) => CardStatus.Lost,
        (CardOperation.CancelLost, CardStatus.Lost) => CardStatus.Active,
        (CardOperation.Freeze, CardStatus.Active) => CardStatus.Frozen,
        (CardOperation.Unfreeze, CardStatus.Frozen) => CardStatus.Active,
        (CardOperation.Replace, _) => CardStatus.Cancelled,
        (CardOperation.Cancel, _) => CardStatus.Cancelled,
        _ => new DomainError("card_state_invalid", $"Cannot {operation} a card that is {current}.", ErrorKind.Conflict),
    };

    /// <summary>Why a card cannot pay, top up or redeem; null when it can.</summary>
    public static DomainError? CheckUsable(CardStatus status) => status switch
    {
        CardStatus.Active => null,
        CardStatus.Lost => new DomainError("card_lost", "The card has been reported lost.", ErrorKind.Conflict),
        CardStatus.Frozen => new DomainError("card_frozen", "The card is frozen.", ErrorKind.Conflict),
        _ => new DomainError("card_cancelled", "The card is cancelled.", ErrorKind.Conflict),
    };
}
