namespace Loyalty.Domain.Members;

/// <summary>State of a card (正常 / 挂失 / 冻结 / 注销).</summary>
public enum CardStatus
{
    /// <summary>Usable.</summary>
    Active,
    /// <summary>Reported lost.</summary>
    Lost,
    /// <summary>Frozen.</summary>
    Frozen,
    /// <summary>Cancelled or replaced; never usable again.</summary>
    Cancelled,
}

/// <summary>A card on a member account.</summary>
/// <param name="CardNumber">The card number.</param>
/// <param name="Type">Kind of card.</param>
/// <param name="Status">Current state.</param>
/// <param name="IssuedAt">When it was issued.</param>
/// <param name="DailyLimit">Supplementary cards: most stored value (fen) it may spend per day.</param>
/// <param name="MonthlyLimit">Supplementary cards: most stored value (fen) it may spend per month.</param>
/// <param name="ReplacedBy">The card that replaced this one.</param>
public sealed record MemberCard(
    string CardNumber,
    CardType Type,
    CardStatus Status,
    DateTimeOffset IssuedAt,
    long? DailyLimit = null,
    long? MonthlyLimit = null,
    string? ReplacedBy = null);
