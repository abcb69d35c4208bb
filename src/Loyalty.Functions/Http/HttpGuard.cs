using System.Collections.Concurrent;
using System.Reflection;
using Loyalty.Domain.Auth;
using Loyalty.Storage.Principals;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;

namespace Loyalty.Functions.Http;

/// <summary>
/// Worker middleware, the one place every HTTP function passes through: it waits for start-up to have prepared
/// storage, authenticates <c>X-Api-Key</c> against the function's <see cref="ApiKeyAttribute"/> (a function with
/// neither that nor <see cref="AnonymousAttribute"/> is refused, so a forgotten attribute fails closed), and turns
/// anything the function throws into problem+json. Queue and timer invocations pass straight through.
/// </summary>
internal sealed class HttpGuard(Admin.BootstrapGate gate, PrincipalStore principals, ILogger<HttpGuard> logger) : IFunctionsWorkerMiddleware
{
    public const string Header = "X-Api-Key";
    private const int MaxKeyLength = 200;
    private static readonly ConcurrentDictionary<string, Access> Declared = new();

    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var http = context.GetHttpContext();
        if (http is null)
        {
            await next(context);
            return;
        }

        try
        {
            var access = Declared.GetOrAdd(context.FunctionDefinition.EntryPoint, static (entryPoint, assembly) => AccessOf(assembly, entryPoint), typeof(HttpGuard).Assembly);
            if (access.Kind != AccessKind.BeforeStartup)
            {
                // Everything but the health probe waits for the tables, queues and admin key to exist.
                await gate.Ready.WaitAsync(TimeSpan.FromSeconds(30), http.RequestAborted);
            }

            var refusal = access.Kind switch
            {
                AccessKind.Undeclared => Problems.Create(StatusCodes.Status500InternalServerError, "internal_error", "This function declares no access rule."),
                AccessKind.ApiKey => await AuthenticateAsync(http, access.Roles),
                _ => null,
            };
            if (refusal is not null)
            {
                context.GetInvocationResult().Value = refusal;
                return;
            }

            await next(context);
        }
        catch (Exception ex) when (!http.Response.HasStarted)
        {
            context.GetInvocationResult().Value = Failure(http, ex);
        }
    }

    /// <summary>What a function declares about its callers, read from its method's attributes.</summary>
    internal static Access AccessOf(Assembly assembly, string entryPoint)
    {
        var dot = entryPoint.LastIndexOf('.');
        var method = assembly.GetType(entryPoint[..dot])?.GetMethod(entryPoint[(dot + 1)..]);
        if (method?.GetCustomAttribute<ApiKeyAttribute>() is { } key)
        {
            return new Access(AccessKind.ApiKey, key.Roles);
        }

        if (method?.GetCustomAttribute<AnonymousAttribute>() is { } anonymous)
        {
            return new Access(anonymous.BeforeStartup ? AccessKind.BeforeStartup : AccessKind.Anonymous, []);
        }

        return new Access(AccessKind.Undeclared, []);
    }

    private async Task<IResult?> AuthenticateAsync(HttpContext http, IReadOnlyList<Role> roles)
    {
        var key = http.Request.Headers[Header].ToString();
        if (string.IsNullOrEmpty(key))
        {
            return Problems.Create(StatusCodes.Status401Unauthorized, "api_key_missing", $"Send an API key in the {Header} header.");
        }

        var principal = key.Length <= MaxKeyLength ? await principals.FindByKeyAsync(key, http.RequestAborted) : null;
        if (principal is null)
        {
            return Problems.Create(StatusCodes.Status401Unauthorized, "api_key_invalid", "The API key is not known.");
        }

        if (!roles.Contains(principal.Role))
        {
            return Problems.Create(StatusCodes.Status403Forbidden, "forbidden_role", $"A {principal.Role} may not call this function.");
        }

        http.Items[typeof(Principal)] = principal;
        return null;
    }

    /// <summary>Anything unexpected becomes a problem without internals; the details go to the log only.</summary>
    private IResult Failure(HttpContext http, Exception exception)
    {
        // The worker hands the function's exception on wrapped.
        while (exception is AggregateException { InnerExceptions.Count: 1 } wrapped)
        {
            exception = wrapped.InnerExceptions[0];
        }

        var (status, code, detail) = exception switch
        {
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => (413, "body_too_large", "The body is too large."),
            BadHttpRequestException bad => (bad.StatusCode, "bad_request", "The request could not be read."),
            Azure.RequestFailedException { Status: >= 500 } or Azure.RequestFailedException { Status: 0 } or HttpRequestException or IOException or TimeoutException
                or OperationCanceledException when !http.RequestAborted.IsCancellationRequested =>
                (503, "storage_unavailable", "Storage did not answer; retry with the same Idempotency-Key (nothing is applied twice)."),
            _ => (500, "internal_error", "Something went wrong; the request may be retried with the same Idempotency-Key."),
        };
        if (status == 500)
        {
            logger.LogError(exception, "Unhandled failure on {Method} {Path}", http.Request.Method, http.Request.Path);
        }
        else if (status == 503)
        {
            logger.LogWarning(exception, "Storage failure on {Method} {Path}", http.Request.Method, http.Request.Path);
            http.Response.Headers.RetryAfter = "1";
        }

        return Problems.Create(status, code, detail);
    }

    internal enum AccessKind
    {
        Undeclared,
        Anonymous,
        BeforeStartup,
        ApiKey,
    }

    internal sealed record Access(AccessKind Kind, IReadOnlyList<Role> Roles);
}

/// <summary>Access to the authenticated caller.</summary>
internal static class CallerExtensions
{
    public static Principal Caller(this HttpContext http) =>
        http.Items.TryGetValue(typeof(Principal), out var p) && p is Principal principal
            ? principal
            : throw new InvalidOperationException("No authenticated principal: the function lacks its [ApiKey] declaration.");
}
