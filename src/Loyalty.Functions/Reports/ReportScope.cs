using System.Globalization;
using Loyalty.Domain.Auth;
using Loyalty.Domain.Org;
using Loyalty.Functions.Http;
using Loyalty.Storage.Reports;

namespace Loyalty.Functions.Reports;

/// <summary>
/// The part of the chain a report covers: <c>?scopeId=</c> (a store, a region or HQ; the caller's own scope by
/// default), which must lie inside the caller's scope. Its stores are the store partitions read; HQ also reads the
/// figures kept at head office (points expiry) and at chain level (coupons issued with no store).
/// </summary>
internal sealed record ReportScope(OrgNode Node, IReadOnlyList<OrgNode> Stores, IReadOnlyList<string> Partitions, OrgTree Tree)
{
    /// <summary>Longest period a report covers, in days.</summary>
    public const int MaxPeriodDays = 366;

    public static (ReportScope? Scope, IResult? Problem) Resolve(HttpContext http, OrgTree tree)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(tree);
        var caller = http.Caller();
        var scopeId = http.Request.Query["scopeId"].ToString();
        scopeId = scopeId.Length == 0 ? caller.ScopeId : scopeId;
        if (tree.Find(scopeId) is not { } node)
        {
            return (null, Problems.Create(StatusCodes.Status400BadRequest, "scope_unknown", $"No node '{scopeId}' in the org tree.", "scopeId"));
        }

        if (!caller.InScope(tree, scopeId))
        {
            return (null, Problems.Create(StatusCodes.Status403Forbidden, "forbidden_scope", $"'{scopeId}' is outside the caller's scope."));
        }

        var stores = tree.Nodes.Where(n => n.Kind == OrgNodeKind.Store && tree.Contains(scopeId, n.Id)).OrderBy(n => n.Id, StringComparer.Ordinal).ToList();
        List<string> partitions = [.. stores.Select(s => s.Id)];
        if (node.Kind == OrgNodeKind.Hq)
        {
            partitions.AddRange([node.Id, ReportCounters.ChainLevel]);
        }

        return (new ReportScope(node, stores, partitions, tree), null);
    }

    /// <summary>The region a store belongs to (its nearest region ancestor), or null.</summary>
    public string? RegionOf(string storeId)
    {
        for (var node = Tree.Find(storeId); node is not null; node = node.ParentId is null ? null : Tree.Find(node.ParentId))
        {
            if (node.Kind == OrgNodeKind.Region)
            {
                return node.Id;
            }
        }

        return null;
    }

    /// <summary>A display name for a partition (a store, head office, or chain level).</summary>
    public string NameOf(string id) => id == ReportCounters.ChainLevel ? "Chain level" : Tree.Find(id)?.Name ?? id;

    /// <summary>
    /// <c>?from=</c> and <c>?to=</c> (yyyy-MM-dd, inclusive); by default the 30 days up to <paramref name="today"/>.
    /// </summary>
    public static (DateOnly From, DateOnly To, IResult? Problem) Period(HttpContext http, DateOnly today)
    {
        ArgumentNullException.ThrowIfNull(http);
        var query = http.Request.Query;
        var to = today;
        var from = today.AddDays(-29);
        if (query["to"].ToString() is { Length: > 0 } toText && !DateOnly.TryParseExact(toText, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out to))
        {
            return (default, default, Problems.Create(StatusCodes.Status400BadRequest, "period_invalid", "to is a date (yyyy-MM-dd).", "to"));
        }

        if (query["from"].ToString() is { Length: > 0 } fromText)
        {
            if (!DateOnly.TryParseExact(fromText, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out from))
            {
                return (default, default, Problems.Create(StatusCodes.Status400BadRequest, "period_invalid", "from is a date (yyyy-MM-dd).", "from"));
            }
        }
        else if (query["to"].Count > 0)
        {
            from = to.AddDays(-29);
        }

        return from > to || to.DayNumber - from.DayNumber >= MaxPeriodDays
            ? (default, default, Problems.Create(StatusCodes.Status400BadRequest, "period_invalid", $"from is on or before to, and the period is at most {MaxPeriodDays} days.", "from"))
            : (from, to, null);
    }
}
