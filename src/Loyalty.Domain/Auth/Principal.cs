namespace Loyalty.Domain.Auth;

/// <summary>An authenticated caller: an API key's owner, with a role and an org scope.</summary>
/// <param name="Id">Stable principal id (never the key itself).</param>
/// <param name="Role">What the caller is.</param>
/// <param name="ScopeId">Org node the caller acts within: a store, a region or HQ.</param>
/// <param name="Name">Optional label, e.g. "till 3".</param>
public sealed record Principal(string Id, Role Role, string ScopeId, string? Name = null);
