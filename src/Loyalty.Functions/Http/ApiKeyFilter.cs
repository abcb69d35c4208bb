using Loyalty.Domain.Auth;
using Loyalty.Storage.Principals;

namespace Loyalty.Functions.Http;

/// <summary>
/// Authenticates <c>X-Api-Key</c> and checks the caller's role against the function's declaration: 401 without a
/// known key, 403 for a role the function does not admit. Scope checks (which store) follow in the handler.
/// </summary>
internal sealed class ApiKeyFilter(IReadOnlyList<Role> roles) : IEndpointFilter
{
    public const string Header = "X-Api-Key";
    private const int MaxKeyLength = 200;

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var http = context.HttpContext;
        var key = http.Request.Headers[Header].ToString();
        if (string.IsNullOrEmpty(key))
        {
            return Problems.Create(StatusCodes.Status401Unauthorized, "api_key_missing", $"Send an API key in the {Header} header.");
        }

        var principal = key.Length <= MaxKeyLength
            ? await http.RequestServices.GetRequiredService<PrincipalStore>().FindByKeyAsync(key, http.RequestAborted)
            : null;
        if (principal is null)
        {
            return Problems.Create(StatusCodes.Status401Unauthorized, "api_key_invalid", "The API key is not known.");
        }

        if (!roles.Contains(principal.Role))
        {
            return Problems.Create(StatusCodes.Status403Forbidden, "forbidden_role", $"A {principal.Role} may not call this function.");
        }

        http.Items[typeof(Principal)] = principal;
        return await next(context);
    }
}

/// <summary>Access to the authenticated caller.</summary>
internal static class CallerExtensions
{
    public static Principal Caller(this HttpContext http) =>
        http.Items.TryGetValue(typeof(Principal), out var p) && p is Principal principal
            ? principal
            : throw new InvalidOperationException("No authenticated principal: the endpoint lacks its API key filter.");
}
