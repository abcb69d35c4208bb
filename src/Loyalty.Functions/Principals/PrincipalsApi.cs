using System.Text.Json;
using Loyalty.Domain.Auth;
using Loyalty.Domain.Common;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Http;
using Loyalty.Storage.Audit;
using Loyalty.Storage.Org;
using Loyalty.Storage.Principals;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Principals;

/// <summary>Body of <c>POST /api/principals</c>.</summary>
internal sealed record CreatePrincipalRequest(string? Role, string? ScopeId, string? Name, DateTimeOffset? ExpiresAt = null);

/// <summary>A principal as shown; the key only in the creation response.</summary>
internal sealed record PrincipalView(string PrincipalId, Role Role, string ScopeId, string? Name, string? ApiKey = null, DateTimeOffset? ExpiresAt = null);

/// <summary>
/// <c>POST /api/principals</c> creates an API key for a role and scope (HQ admins: anyone; region managers:
/// store-level principals in their region; store managers: terminals of their store). The key is returned once and
/// stored only as a hash; an optional <c>expiresAt</c> ends it (at most two years ahead). <c>GET /api/principals</c>
/// lists the live ones for HQ admins; <c>POST /api/principals/{principalId}/revoke</c> ends a principal's keys,
/// audited (refused by every instance within <see cref="PrincipalStore.CacheFor"/>).
/// </summary>
internal static class PrincipalsApi
{
    public static async Task<IResult> CreateAsync(HttpContext http, PrincipalStore principals, OrgStore org, AuditLog audit, TimeProvider time, IOptions<LoyaltyOptions> options)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(options);
        var ct = http.RequestAborted;
        var (body, problem) = await JsonBody.ReadAsync<CreatePrincipalRequest>(http.Request, options.Value.MaxRequestBodyBytes, ["apiKey", "principalId"], ct);
        if (problem is not null)
        {
            return problem;
        }

        var request = body!.Value;
        if (request.Role is null || !Enum.TryParse<Role>(request.Role, ignoreCase: true, out var role) || !Enum.IsDefined(role) || char.IsAsciiDigit(request.Role[0]))
        {
            return Problems.From(DomainError.Invalid("role_invalid", "role", "Role is one of terminal, storeManager, regionManager, hqAdmin, ops, shop."));
        }

        if (string.IsNullOrEmpty(request.ScopeId))
        {
            return Problems.From(DomainError.Invalid("scope_required", "scopeId", "scopeId names the org node the principal acts within."));
        }

        if (request.Name is { Length: > 100 })
        {
            return Problems.From(DomainError.Invalid("name_invalid", "name", "A principal's name is at most 100 characters."));
        }

        var now = time.GetUtcNow();
        if (request.ExpiresAt is { } expires && (expires <= now || expires > now.AddYears(2)))
        {
            return Problems.From(DomainError.Invalid("expires_invalid", "expiresAt", "expiresAt is a time in the future, at most two years ahead."));
        }

        var caller = http.Caller();
        var tree = await org.GetRequiredAsync(ct);
        if (RoleRules.CheckCanCreate(caller, tree, role, request.ScopeId) is { } error)
        {
            return Problems.From(error);
        }

        var principal = new Principal("p_" + Guid.NewGuid().ToString("N")[..16], role, request.ScopeId, request.Name);
        var apiKey = PrincipalStore.NewApiKey();
        await principals.CreateAsync(principal, apiKey, caller.Id, request.ExpiresAt, ct);
        var view = new PrincipalView(principal.Id, role, principal.ScopeId, principal.Name, ExpiresAt: request.ExpiresAt);
        await audit.WriteAsync(
            new AuditRecord(caller.Id, "principal.create", principal.ScopeId, principal.Id, null, JsonSerializer.Serialize(view, JsonDefaults.Options), time.GetUtcNow()),
            ct);
        return TypedResults.Created($"/api/principals/{principal.Id}", view with { ApiKey = apiKey });
    }

    public static async Task<IResult> ListAsync(HttpContext http, PrincipalStore principals)
    {
        ArgumentNullException.ThrowIfNull(http);
        var items = await principals.ListAsync(http.RequestAborted);
        return TypedResults.Ok(new { items = items.Select(p => new PrincipalView(p.Principal.Id, p.Principal.Role, p.Principal.ScopeId, p.Principal.Name, ExpiresAt: p.ExpiresAt)) });
    }

    public static async Task<IResult> RevokeAsync(HttpContext http, string principalId, PrincipalStore principals, AuditLog audit, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(http);
        if (principalId == Admin.Bootstrap.AdminPrincipalId)
        {
            return Problems.Create(StatusCodes.Status409Conflict, "principal_is_bootstrap", "The admin key comes from LOYALTY_ADMIN_KEY: change that setting to replace it.");
        }

        var caller = http.Caller();
        var revoked = await principals.RevokeAsync(principalId, caller.Id, cancellationToken: http.RequestAborted);
        if (revoked == 0)
        {
            return Problems.Create(StatusCodes.Status404NotFound, "principal_not_found", "No live principal has this id.");
        }

        await audit.WriteAsync(
            new AuditRecord(caller.Id, "principal.revoke", caller.ScopeId, principalId, null, JsonSerializer.Serialize(new { revokedKeys = revoked }, JsonDefaults.Options), time.GetUtcNow()),
            http.RequestAborted);
        return TypedResults.Ok(new { principalId, revokedKeys = revoked });
    }
}
