using Loyalty.Domain.Common;
using Loyalty.Domain.Org;

namespace Loyalty.Domain.Auth;

/// <summary>Which scope each role is bound to, and who may create whom.</summary>
public static class RoleRules
{
    /// <summary>The org level a role's scope must be.</summary>
    public static OrgNodeKind ScopeKind(Role role) => role switch
    {
        Role.Terminal or Role.StoreManager or Role.Shop => OrgNodeKind.Store,
        Role.RegionManager => OrgNodeKind.Region,
        Role.HqAdmin or Role.Ops => OrgNodeKind.Hq,
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, null),
    };

    /// <summary>Roles whose holders work with member data (the shop role only sends webhooks).</summary>
    public static bool IsStaff(Role role) => role != Role.Shop;

    /// <summary>True when the caller's scope contains <paramref name="nodeId"/>.</summary>
    public static bool InScope(this Principal caller, OrgTree org, string nodeId)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(org);
        return org.Contains(caller.ScopeId, nodeId);
    }

    /// <summary>
    /// Decides whether <paramref name="caller"/> may create a principal of <paramref name="role"/> at
    /// <paramref name="scopeId"/>: HQ admins create anyone; region managers create store-level principals in their
    /// region; store managers create terminals for their own store.
    /// </summary>
    public static DomainError? CheckCanCreate(Principal caller, OrgTree org, Role role, string scopeId)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(org);
        var scope = org.Find(scopeId);
        if (scope is null)
        {
            return new DomainError("scope_unknown", $"No org node '{scopeId}'.", ErrorKind.Validation, "scopeId");
        }

        if (scope.Kind != ScopeKind(role))
        {
            return new DomainError(
                "scope_kind_mismatch",
                $"A {role} must be scoped to a {ScopeKind(role)}, not a {scope.Kind}.",
                ErrorKind.Validation,
                "scopeId");
        }

        var allowed = caller.Role switch
        {
            Role.HqAdmin => true,
            Role.RegionManager => role is Role.StoreManager or Role.Terminal or Role.Shop,
            Role.StoreManager => role is Role.Terminal,
            _ => false,
        };
        if (!allowed)
        {
            return new DomainError("forbidden_role", $"A {caller.Role} cannot create a {role}.", ErrorKind.Forbidden);
        }

        return caller.InScope(org, scopeId)
            ? null
            : new DomainError("forbidden_scope", $"'{scopeId}' is outside the caller's scope.", ErrorKind.Forbidden);
    }
}
