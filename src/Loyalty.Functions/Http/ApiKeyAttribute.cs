using Loyalty.Domain.Auth;

namespace Loyalty.Functions.Http;

/// <summary>
/// On an HTTP function: the caller needs a known <c>X-Api-Key</c> of one of <see cref="Roles"/> (every role when none
/// is named, every staff role: all but Shop). <see cref="HttpGuard"/> enforces it before the function runs: 401 without a known key, 403 for a role
/// the function does not admit. Scope checks (which store) follow in the handler.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
internal sealed class ApiKeyAttribute(params Role[] roles) : Attribute
{
    /// <summary>Roles admitted; every staff role when empty.</summary>
    public IReadOnlyList<Role> Roles { get; } = roles.Length > 0 ? roles : [.. Enum.GetValues<Role>().Where(r => r != Role.Shop)];
}

/// <summary>On an HTTP function that answers without an API key (health, the dashboard page, signed shop webhooks).</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
internal sealed class AnonymousAttribute : Attribute
{
    /// <summary>Answers before start-up has prepared storage (the health probe); other functions wait for it.</summary>
    public bool BeforeStartup { get; init; }
}
