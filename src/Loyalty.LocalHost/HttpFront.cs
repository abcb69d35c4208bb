using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Template;
using Microsoft.Azure.WebJobs.Script.Grpc.Messages;

namespace Loyalty.LocalHost;

/// <summary>
/// The HTTP side of the host: finds the HTTP function whose route (host.json's route prefix + the trigger's route)
/// matches the request, sends the worker the invocation, and proxies the request to the worker's own HTTP endpoint
/// with the invocation id, as the ASP.NET Core integration expects. The response comes back on the proxied request.
/// </summary>
public sealed class HttpFront(WorkerChannel channel, ILogger<HttpFront> logger) : IDisposable
{
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Upgrade", "TE", "Trailer", "Host",
    };

    private readonly HttpMessageInvoker _proxy = new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        AutomaticDecompression = System.Net.DecompressionMethods.None,

        // Header values pass through as the client sent them (the front accepts UTF-8 too); the app judges them.
        RequestHeaderEncodingSelector = (_, _) => System.Text.Encoding.UTF8,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
    });

    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private List<HttpRoute> _routes = [];
    private Uri? _workerUri;

    /// <summary>
    /// Lets requests through. Until then they wait (the port is already listening): the host opens the front once
    /// everything a function may need is in place, its durable client binding included.
    /// </summary>
    public void Open() => _open.TrySetResult();

    /// <inheritdoc />
    public void Dispose() => _proxy.Dispose();

    /// <summary>The HTTP functions, in matching order.</summary>
    public IReadOnlyList<HttpRoute> Routes => _routes;

    /// <summary>Takes the worker's HTTP address and its HTTP functions.</summary>
    public void Configure(Uri workerUri, IEnumerable<FunctionDescriptor> functions, string routePrefix)
    {
        _workerUri = workerUri;
        _routes = [.. functions
            .Where(f => string.Equals(f.Trigger.Type, "httpTrigger", StringComparison.OrdinalIgnoreCase))
            .Select(f => HttpRoute.For(f, routePrefix))
            .OrderBy(r => r.Precedence)];
    }

    /// <summary>Serves one request: 404 when no route matches, 405 when only the method is wrong.</summary>
    public async Task HandleAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        await _open.Task.WaitAsync(context.RequestAborted);
        if (_workerUri is null)
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return;
        }

        HttpRoute? pathMatch = null;
        RouteValueDictionary? values = null;
        foreach (var route in _routes)
        {
            var candidate = new RouteValueDictionary();
            if (!route.Matcher.TryMatch(context.Request.Path, candidate))
            {
                continue;
            }

            pathMatch ??= route;
            if (route.Allows(context.Request.Method))
            {
                (pathMatch, values) = (route, candidate);
                break;
            }
        }

        if (pathMatch is null || values is null)
        {
            context.Response.StatusCode = pathMatch is null ? StatusCodes.Status404NotFound : StatusCodes.Status405MethodNotAllowed;
            return;
        }

        await InvokeAsync(context, pathMatch, values);
    }

    private async Task InvokeAsync(HttpContext context, HttpRoute route, RouteValueDictionary values)
    {
        var invocationId = Guid.NewGuid().ToString();
        var request = new InvocationRequest { InvocationId = invocationId, FunctionId = route.Function.FunctionId };
        var http = new RpcHttp { Method = context.Request.Method, Url = context.Request.GetEncodedUrl() };
        foreach (var (name, value) in values)
        {
            var text = Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty;
            http.Params[name] = text;
            request.TriggerMetadata[name] = new TypedData { String = text };
        }

        request.InputData.Add(new ParameterBinding { Name = route.Function.Trigger.Name, Data = new TypedData { Http = http } });
        var invocation = channel.InvokeAsync(request, context.RequestAborted);

        HttpResponseMessage response;
        using var sent = new DisposableList();
        for (var attempt = 1; ; attempt++)
        {
            var forward = sent.Add(Forward(context));
            forward.Headers.Add("x-ms-invocation-id", invocationId);
            try
            {
                response = await _proxy.SendAsync(forward, context.RequestAborted);
                break;
            }
            catch (HttpRequestException ex) when (ex.InnerException is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionRefused } && attempt < 100)
            {
                // The worker reports its HTTP address before its server listens; nothing was sent yet, so try again.
                await Task.Delay(50, context.RequestAborted);
            }
            catch (HttpRequestException ex)
            {
                logger.LogError(ex, "The worker did not answer {Function}", route.Function.Name);
                context.Response.StatusCode = StatusCodes.Status502BadGateway;
                await ObserveAsync(invocation, route);
                return;
            }
        }

        using (response)
        {
            context.Response.StatusCode = (int)response.StatusCode;
            Copy(response.Headers, context.Response.Headers);
            Copy(response.Content.Headers, context.Response.Headers);
            await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
        }

        // The caller has its answer; the invocation's own result (for the log) need not hold it up.
        await context.Response.CompleteAsync();
        await ObserveAsync(invocation, route);
    }

    private HttpRequestMessage Forward(HttpContext context)
    {
        var forward = new HttpRequestMessage(new HttpMethod(context.Request.Method), new Uri(_workerUri!, context.Request.Path + context.Request.QueryString));
        if (context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            forward.Content = new StreamContent(context.Request.Body);
        }
        else if (context.Request.ContentLength == 0 || context.Request.ContentType is not null)
        {
            // An empty body still carries its content headers (an empty JSON post is the app's to refuse).
            forward.Content = new ByteArrayContent([]);
        }

        foreach (var (name, value) in context.Request.Headers)
        {
            if (HopByHop.Contains(name))
            {
                continue;
            }

            if (!forward.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)value))
            {
                forward.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)value);
            }
        }

        // The caller's host, as the app sees it in Azure: links the app builds from the request (an orchestration's
        // status URIs) point at the front, not at the worker's own port.
        forward.Headers.Host = context.Request.Host.Value;
        return forward;
    }

    // The invocation's own answer: logged when it failed; a worker that went away or a caller that hung up ends it
    // without an answer, which the response (or its absence) has already told the caller.
    private async Task ObserveAsync(Task<InvocationResponse> invocation, HttpRoute route)
    {
        try
        {
            var result = await invocation;
            if (result.Result.Status != StatusResult.Types.Status.Success)
            {
                logger.LogError("{Function} failed: {Error}", route.Function.Name, result.Result.Exception?.Message);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            logger.LogDebug("{Function}: no answer to its invocation ({Reason})", route.Function.Name, ex.Message);
        }
    }

    private static void Copy(HttpHeaders from, IHeaderDictionary to)
    {
        foreach (var (name, value) in from)
        {
            if (!HopByHop.Contains(name))
            {
                to[name] = value.ToArray();
            }
        }
    }
}

/// <summary>An HTTP function's route: the template matcher, its methods, and its precedence (lower matches first: literals before parameters).</summary>
public sealed record HttpRoute(FunctionDescriptor Function, string Template, TemplateMatcher Matcher, IReadOnlySet<string>? Methods, decimal Precedence)
{
    /// <summary>True when the function accepts <paramref name="method"/> (all methods when it names none).</summary>
    public bool Allows(string method) => Methods is null || Methods.Contains(method);

    internal static HttpRoute For(FunctionDescriptor function, string routePrefix)
    {
        var trigger = function.Trigger;
        var route = trigger.Property("route") ?? function.Name;
        var template = string.Join('/', new[] { routePrefix.Trim('/'), route.Trim('/') }.Where(s => s.Length > 0));
        var parsed = TemplateParser.Parse(template);
        var methods = trigger.Json.FirstOrDefault(p => string.Equals(p.Key, "methods", StringComparison.OrdinalIgnoreCase)).Value is System.Text.Json.Nodes.JsonArray list && list.Count > 0
            ? list.Select(m => m!.GetValue<string>().ToUpperInvariant()).ToHashSet(StringComparer.OrdinalIgnoreCase)
            : null;
        return new HttpRoute(function, template, new TemplateMatcher(parsed, new RouteValueDictionary()), methods, RoutePrecedence.ComputeInbound(parsed));
    }
}

/// <summary>Request messages sent on behalf of one request, disposed together when it ends.</summary>
internal sealed class DisposableList : IDisposable
{
    private readonly List<IDisposable> _items = [];

    public T Add<T>(T item)
        where T : IDisposable
    {
        _items.Add(item);
        return item;
    }

    public void Dispose() => _items.ForEach(i => i.Dispose());
}
