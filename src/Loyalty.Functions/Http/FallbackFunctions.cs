using System.Reflection;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Template;
using Microsoft.Azure.Functions.Worker;

namespace Loyalty.Functions.Http;

/// <summary>
/// The lowest-precedence route: any path under the route prefix that no other function serves. It answers 405
/// method_not_allowed when another function serves the path with another method, otherwise 404 route_not_found, both
/// as problem+json, in Azure and locally alike.
/// </summary>
internal static class FallbackFunctions
{
    private static readonly Lazy<IReadOnlyList<(TemplateMatcher Matcher, string[] Methods)>> Routes = new(ReadRoutes);

    [Function("NotServed")]
    [Anonymous]
    public static IResult NotServed(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "post", "put", "patch", "delete", "head", "options", Route = "{*path}")] HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);

        // The path as the host received it, route prefix first (host.json: "api").
        var path = request.Path.Value ?? "/";
        var slash = path.IndexOf('/', 1);
        var local = new PathString(slash < 0 ? "/" : path[slash..]);
        var otherMethod = Routes.Value.Any(r => r.Matcher.TryMatch(local, new RouteValueDictionary()) && !r.Methods.Contains(request.Method, StringComparer.OrdinalIgnoreCase));
        return otherMethod
            ? Problems.Create(StatusCodes.Status405MethodNotAllowed, "method_not_allowed", $"{request.Method} {request.Path} is not served.")
            : Problems.Create(StatusCodes.Status404NotFound, "route_not_found", $"{request.Method} {request.Path} is not served.");
    }

    /// <summary>Every HTTP function's route and methods, read from the function classes (the catalogue).</summary>
    internal static IReadOnlyList<(string Name, string Route, string[] Methods)> HttpFunctions() =>
        [.. from type in typeof(FallbackFunctions).Assembly.GetTypes()
            from method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static)
            let function = method.GetCustomAttribute<FunctionAttribute>()
            let trigger = method.GetParameters().Select(p => p.GetCustomAttribute<HttpTriggerAttribute>()).FirstOrDefault(t => t is not null)
            where function is not null && trigger is not null
            select (function.Name, trigger.Route ?? function.Name, trigger.Methods ?? [])];

    private static IReadOnlyList<(TemplateMatcher, string[])> ReadRoutes() =>
        [.. HttpFunctions()
            .Where(f => !f.Route.StartsWith("{*", StringComparison.Ordinal))
            .Select(f => (new TemplateMatcher(TemplateParser.Parse(f.Route), new RouteValueDictionary()), f.Methods))];
}
