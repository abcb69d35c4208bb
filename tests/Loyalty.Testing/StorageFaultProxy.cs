using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Loyalty.Testing;

/// <summary>
/// A reverse proxy in front of Azurite's Table service, for an app in another process (the function app's worker):
/// the app's table endpoint points here, and writes that touch one table (single requests and entity-group
/// transactions alike) get the faults a <see cref="FaultPlan"/> chooses, on the wire: a 503 or 412 before anything
/// is written, or the write committed and its answer replaced by a 503 or a dropped connection. It can hold
/// transactions at a gate, counts them and the table's point reads, and refuses any request that would update or
/// delete a ledger row (rows whose key starts <c>ledger-</c> may only be inserted), recording it so the test fails.
/// Everything else passes through unchanged (Shared Key signatures cover the path and headers, not the host).
/// </summary>
public sealed partial class StorageFaultProxy : IAsyncDisposable
{
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Transfer-Encoding", "Upgrade", "TE", "Trailer", "Host", "Content-Length",
    };

    private readonly WebApplication _app;
    private readonly HttpClient _azurite;
    private readonly Uri _target;
    private readonly string _table;
    private readonly FaultPlan _plan;
    private int _transactions;
    private int _reads;

    private StorageFaultProxy(WebApplication app, Uri target, string table, FaultPlan plan)
    {
        _app = app;
        _target = target;
        _table = table;
        _plan = plan;
        // Azurite (Node) closes a connection idle for 5 s; a request sent on it as it closes is lost ("the response
        // ended prematurely"), and the app behind the proxy, which runs without the SDK's retries, would answer 503
        // for a fault nobody injected (seen once in a CI run). Pooled connections are dropped well before that.
        _azurite = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, AutomaticDecompression = DecompressionMethods.None, PooledConnectionIdleTimeout = TimeSpan.FromSeconds(2) })
        {
            Timeout = TimeSpan.FromMinutes(2),
        };
    }

    /// <summary>Attempts to change or delete ledger rows, with what was attempted.</summary>
    public static System.Collections.Concurrent.ConcurrentBag<string> LedgerViolations => FaultInjectionPolicy.LedgerViolations;

    /// <summary>The proxy's table endpoint (with the account path), for the app's connection string.</summary>
    public Uri TableEndpoint { get; private set; } = null!;

    /// <summary>When set, each transaction on the table waits for it before it is forwarded.</summary>
    public Task? CommitGate { get; set; }

    /// <summary>Entity-group transactions on the table that reached the proxy (faulted ones included).</summary>
    public int Transactions => Volatile.Read(ref _transactions);

    /// <summary>Point reads of the table answered through the proxy.</summary>
    public int Reads => Volatile.Read(ref _reads);

    /// <summary>Starts a proxy on a free loopback port for the table <paramref name="table"/> of Azurite's table endpoint.</summary>
    public static async Task<StorageFaultProxy> StartAsync(Uri azuriteTableEndpoint, string table, FaultPlan plan)
    {
        ArgumentNullException.ThrowIfNull(azuriteTableEndpoint);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = null);
        var app = builder.Build();
        var proxy = new StorageFaultProxy(app, new Uri(azuriteTableEndpoint.GetLeftPart(UriPartial.Authority)), table, plan);
        app.Run(proxy.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        proxy.TableEndpoint = new Uri(address + azuriteTableEndpoint.AbsolutePath);
        return proxy;
    }

    /// <summary>A connection string equal to <paramref name="connectionString"/> with its table endpoint here.</summary>
    public string ConnectionString(string connectionString)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        return TableEndpointSetting().Replace(connectionString, "TableEndpoint=" + TableEndpoint.ToString().TrimEnd('/') + ";");
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        _azurite.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body, context.RequestAborted);
        var bytes = body.ToArray();
        var path = Uri.UnescapeDataString(request.Path.Value ?? string.Empty);
        var isBatch = path.EndsWith("/$batch", StringComparison.Ordinal);
        var text = isBatch ? Encoding.UTF8.GetString(bytes) : $"{request.Method} {path}";
        var ours = isBatch ? text.Contains($"/{_table}(", StringComparison.Ordinal) : Touches(path);

        if (!ours || HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
        {
            if (ours && HttpMethods.IsGet(request.Method) && path.EndsWith(')') && path.Contains("RowKey=", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _reads);
            }

            await ForwardAsync(context, bytes, answer: true);
            return;
        }

        foreach (Match match in LedgerWrite().Matches(text))
        {
            LedgerViolations.Add(match.Value);
            await ErrorAsync(context, 400, "LedgerRowChanged", $"Ledger rows are append-only: attempted {match.Value}.");
            return;
        }

        if (isBatch)
        {
            Interlocked.Increment(ref _transactions);
            if (CommitGate is { } gate)
            {
                await gate.WaitAsync(context.RequestAborted);
            }
        }

        switch (_plan.Next(text))
        {
            case Fault.UnavailableBeforeCommit:
                await ErrorAsync(context, 503, "ServerBusy", "Injected: server busy before commit");
                return;
            case Fault.ConflictBeforeCommit:
                await ErrorAsync(context, 412, "UpdateConditionNotSatisfied", "Injected: stale ETag");
                return;
            case Fault.UnavailableAfterCommit:
                await ForwardAsync(context, bytes, answer: false);
                await ErrorAsync(context, 503, "ServerBusy", "Injected: response lost after commit");
                return;
            case Fault.TimeoutAfterCommit:
                // Committed, then the connection drops before any answer: the caller cannot know what happened.
                await ForwardAsync(context, bytes, answer: false);
                context.Abort();
                return;
            default:
                await ForwardAsync(context, bytes, answer: true);
                return;
        }
    }

    private bool Touches(string path)
    {
        // /devstoreaccount1/Members(PartitionKey='m',RowKey='r') or /devstoreaccount1/Members
        var last = path[(path.LastIndexOf('/') + 1)..];
        return last == _table || last.StartsWith(_table + "(", StringComparison.Ordinal);
    }

    private async Task ForwardAsync(HttpContext context, byte[] body, bool answer)
    {
        var request = context.Request;
        using var forward = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(_target, request.Path.ToUriComponent() + request.QueryString.ToUriComponent()));
        if (body.Length > 0 || !HttpMethods.IsGet(request.Method))
        {
            forward.Content = new ByteArrayContent(body);
        }

        foreach (var (name, values) in request.Headers)
        {
            if (HopByHop.Contains(name))
            {
                continue;
            }

            if (!forward.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
            {
                forward.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        using var response = await _azurite.SendAsync(forward, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        if (!answer)
        {
            return;
        }

        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            if (!HopByHop.Contains(name))
            {
                context.Response.Headers[name] = values.ToArray();
            }
        }

        await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
    }

    private static async Task ErrorAsync(HttpContext context, int status, string code, string message)
    {
        context.Response.StatusCode = status;
        context.Response.Headers["x-ms-error-code"] = code;
        context.Response.ContentType = "application/json;odata=minimalmetadata;streaming=true;charset=utf-8";
        var error = new Dictionary<string, object> { ["odata.error"] = new { code, message = new { lang = "en-US", value = message } } };
        await context.Response.Body.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(error), context.RequestAborted);
    }

    [GeneratedRegex(@"TableEndpoint=[^;]*;?")]
    private static partial Regex TableEndpointSetting();

    // A single request line ("PUT /acct/Members(PartitionKey='m',RowKey='ledger-…')") or one inside a batch.
    [GeneratedRegex(@"(PUT|MERGE|PATCH|DELETE) \S*RowKey='ledger-[^']*'")]
    private static partial Regex LedgerWrite();
}
