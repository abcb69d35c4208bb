namespace Loyalty.Domain.Org;

/// <summary>Level of a node in the chain's organisation tree (总部 / 大区 / 门店).</summary>
public enum OrgNodeKind
{
    /// <summary>Headquarters: the single root.</summary>
    Hq,
    /// <summary>A region under HQ.</summary>
    Region,
    /// <summary>A store (physical, or an online shop) under a region.</summary>
    Store,
}
