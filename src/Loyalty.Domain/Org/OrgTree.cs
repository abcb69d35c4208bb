using System.Text.RegularExpressions;
using Loyalty.Domain.Common;

namespace Loyalty.Domain.Org;

/// <summary>
/// The chain's HQ -> region -> store tree. Immutable; built only through <see cref="Create"/>, which enforces one HQ,
/// regions directly under HQ and stores directly under a region.
/// </summary>
public sealed partial class OrgTree
{
    /// <summary>Largest tree accepted; bounds request sizes and cache memory.</summary>
    public const int MaxNodes = 5000;

    private readonly Dictionary<string, OrgNode> _byId;

    private OrgTree(Dictionary<string, OrgNode> byId, OrgNode hq)
    {
        _byId = byId;
        Hq = hq;
    }

    /// <summary>The root node.</summary>
    public OrgNode Hq { get; }

    /// <summary>All nodes: HQ first, then regions, then stores, each group ordered by id.</summary>
    public IReadOnlyList<OrgNode> Nodes =>
        [.. _byId.Values.OrderBy(n => n.Kind).ThenBy(n => n.Id, StringComparer.Ordinal)];

    /// <summary>Finds a node by id.</summary>
    public OrgNode? Find(string id) => _byId.GetValueOrDefault(id);

    /// <summary>Finds a store by id; null when absent or not a store.</summary>
    public OrgNode? FindStore(string id) => Find(id) is { Kind: OrgNodeKind.Store } s ? s : null;

    /// <summary>True when <paramref name="nodeId"/> is <paramref name="scopeId"/> or lies beneath it.</summary>
    public bool Contains(string scopeId, string nodeId)
    {
        for (var node = Find(nodeId); node is not null; node = node.ParentId is null ? null : Find(node.ParentId))
        {
            if (node.Id == scopeId)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Validates and builds a tree from a flat node list.</summary>
    public static Result<OrgTree> Create(IReadOnlyCollection<OrgNode> nodes)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        if (nodes.Count > MaxNodes)
        {
            return DomainError.Invalid("org_too_large", "nodes", $"An org tree holds at most {MaxNodes} nodes.");
        }

        var byId = new Dictionary<string, OrgNode>(StringComparer.Ordinal);
        foreach (var node in nodes)
        {
            if (node.Id is null || !IdPattern().IsMatch(node.Id))
            {
                return DomainError.Invalid("org_id_invalid", "id", $"Node id '{node.Id}' must be 1-40 characters of a-z, 0-9, '-' or '_'.");
            }

            if (string.IsNullOrWhiteSpace(node.Name) || node.Name.Length > 100)
            {
                return DomainError.Invalid("org_name_invalid", "name", $"Node '{node.Id}' needs a name of 1-100 characters.");
            }

            if (!byId.TryAdd(node.Id, node))
            {
                return DomainError.Invalid("org_duplicate_id", "id", $"Node id '{node.Id}' appears more than once.");
            }
        }

        var hqs = byId.Values.Where(n => n.Kind == OrgNodeKind.Hq).ToList();
        if (hqs.Count != 1 || hqs[0].ParentId is not null)
        {
            return DomainError.Invalid("org_hq_invalid", "nodes", "The tree needs exactly one HQ node, without a parent.");
        }

        foreach (var node in byId.Values.Where(n => n.Kind != OrgNodeKind.Hq))
        {
            var expectedParent = node.Kind == OrgNodeKind.Region ? OrgNodeKind.Hq : OrgNodeKind.Region;
            if (node.ParentId is null || !byId.TryGetValue(node.ParentId, out var parent) || parent.Kind != expectedParent)
            {
                return DomainError.Invalid(
                    "org_parent_invalid",
                    "parentId",
                    $"{node.Kind} '{node.Id}' must have a {expectedParent} parent.");
            }
        }

        return new OrgTree(byId, hqs[0]);
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,39}$")]
    private static partial Regex IdPattern();
}
