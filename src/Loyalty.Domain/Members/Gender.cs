namespace Loyalty.Domain.Members;

/// <summary>Gender as the member chose to state it.</summary>
public enum Gender
{
    /// <summary>Not stated.</summary>
    Unspecified,
    /// <summary>Female.</summary>
    Female,
    /// <summary>Male.</summary>
    Male,
}
