using System.Text.Json;
using Loyalty.Domain.Auth;
using Loyalty.Domain.Org;
using Loyalty.Domain.Programme;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Http;
using Loyalty.Storage.Audit;
using Loyalty.Storage.Config;
using Loyalty.Storage.Org;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Programme;

/// <summary>
/// What regions and stores may set for themselves (<c>/api/config/override-policy</c>, set by HQ): by default nothing;
/// HQ may let region managers set the earning rate of their region and its stores, and store managers that of their
/// own store.
/// </summary>
public sealed record OverridePolicy(bool RegionsSetEarningRate = false, bool StoresSetEarningRate = false)
{
    /// <summary>Only HQ sets rules.</summary>
    public static OverridePolicy Default { get; } = new();
}

/// <summary>Body of <c>PUT /api/config/earning-rules/scopes/{scopeId}</c>: the scope's rate, or null to fall back to the one above.</summary>
internal sealed record ScopeRateRequest(int? PointsPerYuan);

/// <summary>
/// <c>PUT /api/config/earning-rules/scopes/{scopeId}</c>: sets (or removes) the earning rate of one region or store. HQ
/// admins and ops anywhere; region and store managers inside their scope where the override policy allows. A new
/// version of the earning rules, audited like any configuration change.
/// </summary>
internal sealed class ScopeRatesApi(ConfigStore config, OrgStore org, AuditLog audit, TimeProvider time, IOptions<LoyaltyOptions> options)
{
    /// <summary>Configuration section of the override policy.</summary>
    public const string PolicySection = "override-policy";

    public async Task<IResult> HandleAsync(HttpContext http, string scopeId)
    {
        ArgumentNullException.ThrowIfNull(http);
        var ct = http.RequestAborted;
        var (body, problem) = await JsonBody.ReadAsync<ScopeRateRequest>(http.Request, options.Value.MaxRequestBodyBytes, [], ct);
        if (problem is not null)
        {
            return problem;
        }

        var rate = body!.Value.PointsPerYuan;
        if (rate is < 0 or > 100)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "config_invalid", "pointsPerYuan is 0-100 (or null to remove the scope's own rate).", "pointsPerYuan");
        }

        var tree = await org.GetRequiredAsync(ct);
        var node = tree.Find(scopeId);
        if (node is not { Kind: OrgNodeKind.Region or OrgNodeKind.Store })
        {
            return Problems.Create(StatusCodes.Status404NotFound, "scope_unknown", $"No region or store '{scopeId}'.");
        }

        var caller = http.Caller();
        if (!caller.InScope(tree, scopeId))
        {
            return Problems.Create(StatusCodes.Status403Forbidden, "forbidden_scope", $"'{scopeId}' is outside the caller's scope.");
        }

        var policy = (await config.GetAsync(PolicySection, OverridePolicy.Default, ct)).Value;
        var allowed = caller.Role switch
        {
            Role.HqAdmin or Role.Ops => true,
            Role.RegionManager => policy.RegionsSetEarningRate,
            Role.StoreManager => policy.StoresSetEarningRate && node.Kind == OrgNodeKind.Store,
            _ => false,
        };
        if (!allowed)
        {
            return Problems.Create(StatusCodes.Status403Forbidden, "override_not_allowed", $"The override policy does not let a {caller.Role} set earning rates.");
        }

        for (var attempt = 0; attempt < 5; attempt++)
        {
            var current = await config.GetAsync("earning-rules", EarningRules.Default, ct);
            var rates = (current.Value.ScopeRates ?? []).Where(r => r.ScopeId != scopeId).ToList();
            if (rate is { } r)
            {
                rates.Add(new ScopeRate(scopeId, r));
            }

            var next = current.Value with { ScopeRates = rates };
            if (await config.PutAsync("earning-rules", next, current.Version, caller.Id, ct) is { } version)
            {
                await audit.WriteAsync(
                    new AuditRecord(caller.Id, "config.earning-rules.scope", caller.ScopeId, scopeId,
                        JsonSerializer.Serialize(current.Value.ScopeRates?.FirstOrDefault(x => x.ScopeId == scopeId), ConfigJson.Options),
                        JsonSerializer.Serialize(new { scopeId, pointsPerYuan = rate }, ConfigJson.Options), time.GetUtcNow()),
                    ct);
                return TypedResults.Ok(new { scopeId, pointsPerYuan = rate, version });
            }
        }

        return Problems.Create(StatusCodes.Status409Conflict, "config_version_conflict", "The earning rules kept changing; try again.");
    }
}
