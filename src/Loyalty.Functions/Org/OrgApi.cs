using System.Globalization;
using System.Text.Json;
using Loyalty.Domain.Common;
using Loyalty.Domain.Org;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Http;
using Loyalty.Storage.Audit;
using Loyalty.Storage.Org;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Org;

/// <summary>A node as sent and shown.</summary>
internal sealed record OrgNodeDto(string? Id, string? Kind, string? Name, string? ParentId);

/// <summary>Body of <c>PUT /api/config/org</c>: the whole tree.</summary>
internal sealed record PutOrgRequest(IReadOnlyList<OrgNodeDto>? Nodes);

/// <summary>The tree with its version (also the ETag).</summary>
internal sealed record OrgView(long Version, IReadOnlyList<OrgNodeDto> Nodes);

/// <summary>
/// <c>GET|PUT /api/config/org</c>. PUT replaces the whole tree, HQ admins only; the HQ id never changes (principals
/// are scoped to it). Send <c>If-Match</c> with the version you read to avoid overwriting someone else's change.
/// </summary>
internal static class OrgApi
{
    private const int MaxBodyBytes = 1024 * 1024;

    public static async Task<IResult> GetAsync(HttpContext http, OrgStore org)
    {
        ArgumentNullException.ThrowIfNull(http);
        var current = await org.GetAsync(http.RequestAborted);
        if (current is not { } c)
        {
            return Problems.Create(StatusCodes.Status404NotFound, "org_not_configured", "No org tree has been configured.");
        }

        http.Response.Headers.ETag = Quote(c.Version);
        return TypedResults.Ok(View(c.Tree, c.Version));
    }

    public static async Task<IResult> PutAsync(HttpContext http, OrgStore org, AuditLog audit, TimeProvider time, IOptions<LoyaltyOptions> options)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(options);
        var ct = http.RequestAborted;
        var (body, problem) = await JsonBody.ReadAsync<PutOrgRequest>(http.Request, Math.Max(MaxBodyBytes, options.Value.MaxRequestBodyBytes), ["version"], ct);
        if (problem is not null)
        {
            return problem;
        }

        var parsed = Parse(body!.Value);
        if (!parsed.IsSuccess)
        {
            return Problems.From(parsed.Error);
        }

        var current = await org.GetAsync(ct);
        var version = current?.Version ?? 0;
        var ifMatch = http.Request.Headers.IfMatch.ToString();
        if (!string.IsNullOrEmpty(ifMatch) && ifMatch != "*" && ifMatch != Quote(version))
        {
            return Problems.Create(StatusCodes.Status412PreconditionFailed, "org_version_conflict", $"The org tree changed since version {ifMatch}; read it again.");
        }

        var tree = parsed.Value;
        if (current is { } c && c.Tree.Hq.Id != tree.Hq.Id)
        {
            return Problems.From(DomainError.Invalid("org_hq_id_fixed", "nodes", $"The HQ id is '{c.Tree.Hq.Id}' and cannot change."));
        }

        if (!await org.ReplaceAsync(tree, version, ct))
        {
            return Problems.Create(StatusCodes.Status409Conflict, "org_version_conflict", "Another change to the org tree landed first; read it again.");
        }

        var after = await org.GetAsync(ct);
        var caller = http.Caller();
        await audit.WriteAsync(
            new AuditRecord(
                caller.Id,
                "org.replace",
                tree.Hq.Id,
                "org",
                current is { } before ? JsonSerializer.Serialize(View(before.Tree, before.Version), JsonDefaults.Options) : null,
                JsonSerializer.Serialize(View(tree, after!.Value.Version), JsonDefaults.Options),
                time.GetUtcNow()),
            ct);
        http.Response.Headers.ETag = Quote(after.Value.Version);
        return TypedResults.Ok(View(after.Value.Tree, after.Value.Version));
    }

    internal static Result<OrgTree> Parse(PutOrgRequest request)
    {
        if (request.Nodes is null || request.Nodes.Count == 0)
        {
            return DomainError.Invalid("org_nodes_required", "nodes", "Send the whole tree as a non-empty 'nodes' array.");
        }

        // A region can only sit under HQ, so its parent may be left out.
        var hqId = request.Nodes.FirstOrDefault(n => string.Equals(n.Kind, "hq", StringComparison.OrdinalIgnoreCase))?.Id;
        var nodes = new List<OrgNode>(request.Nodes.Count);
        foreach (var n in request.Nodes)
        {
            if (!Enum.TryParse<OrgNodeKind>(n.Kind, ignoreCase: true, out var kind) || !Enum.IsDefined(kind) || char.IsAsciiDigit(n.Kind![0]))
            {
                return DomainError.Invalid("org_kind_invalid", "kind", $"Node '{n.Id}' has kind '{n.Kind}'; use hq, region or store.");
            }

            nodes.Add(new OrgNode(n.Id!, kind, n.Name!, kind == OrgNodeKind.Region ? n.ParentId ?? hqId : n.ParentId));
        }

        return OrgTree.Create(nodes);
    }

    private static OrgView View(OrgTree tree, long version) =>
        new(version, [.. tree.Nodes.Select(n => new OrgNodeDto(n.Id, JsonNamingPolicy.CamelCase.ConvertName(n.Kind.ToString()), n.Name, n.ParentId))]);

    private static string Quote(long version) => "\"" + version.ToString(CultureInfo.InvariantCulture) + "\"";
}
