namespace Loyalty.Domain.Members;

/// <summary>Kinds of card on a member account (个人卡 / 关联卡 / 附属卡 / 团体卡).</summary>
public enum CardType
{
    /// <summary>The member's own card.</summary>
    Personal,
    /// <summary>A second card on the same account.</summary>
    Linked,
    /// <summary>A child card under a main card, optionally with its own limit.</summary>
    Supplementary,
    /// <summary>One of several cards of a company account.</summary>
    Group,
}
