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
public sealed record MemberCard(string CardNumber, CardType Type, CardStatus Status, DateTimeOffset IssuedAt);
