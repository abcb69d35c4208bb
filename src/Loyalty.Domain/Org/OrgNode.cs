namespace Loyalty.Domain.Org;

/// <summary>One node of the organisation tree.</summary>
/// <param name="Id">Stable identifier, e.g. <c>hq</c>, <c>east</c>, <c>sh-001</c>.</param>
/// <param name="Kind">Level of the node.</param>
/// <param name="Name">Display name.</param>
/// <param name="ParentId">Parent node id; null only for HQ.</param>
public sealed record OrgNode(string Id, OrgNodeKind Kind, string Name, string? ParentId);
