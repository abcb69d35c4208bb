using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Azure.WebJobs.Script.Grpc.Messages;

namespace Loyalty.LocalHost;

/// <summary>
/// A running local Functions host: the gRPC endpoint the worker connects to, the worker process, the HTTP front on
/// <see cref="HostSettings.Port"/>, and a listener per queue and timer trigger. <see cref="StartAsync"/> returns once
/// every function is loaded; <see cref="Failed"/> completes, with the reason, if the worker dies or the Durable Task
/// provider cannot start.
/// </summary>
public sealed class FunctionsHost : IAsyncDisposable
{
    private readonly WebApplication _rpc;
    private readonly WebApplication _front;
    private readonly WorkerProcess _worker;
    private readonly WorkerChannel _channel;
    private readonly HttpFront _httpFront;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _listeners = [];
    private readonly TaskCompletionSource<string> _failed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private DurableEngine? _durable;
    private ILogger? _logger;
    private int _stopped;
    private int _disposed;

    private FunctionsHost(WebApplication rpc, WebApplication front, HttpFront httpFront, WorkerProcess worker, WorkerChannel channel, IReadOnlyList<FunctionDescriptor> functions, Uri baseAddress)
    {
        _httpFront = httpFront;
        _rpc = rpc;
        _front = front;
        _worker = worker;
        _channel = channel;
        Functions = functions;
        BaseAddress = baseAddress;
    }

    /// <summary>The functions the worker indexed and loaded.</summary>
    public IReadOnlyList<FunctionDescriptor> Functions { get; }

    /// <summary>Where the HTTP functions are served, e.g. <c>http://127.0.0.1:7071/</c>.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The HTTP functions' routes, in matching order.</summary>
    public IReadOnlyList<HttpRoute> Routes => _httpFront.Routes;

    /// <summary>The worker's process id.</summary>
    public int WorkerProcessId => _worker.Id;

    /// <summary>
    /// Completes with the reason when the host can no longer run: the worker exited while the host was running, or the
    /// Durable Task provider could not start.
    /// </summary>
    public Task<string> Failed => _failed.Task;

    /// <summary>Starts the host and the worker, and loads every function.</summary>
    public static async Task<FunctionsHost> StartAsync(HostSettings settings, ILoggerFactory loggerFactory, TimeSpan? startTimeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        var channel = new WorkerChannel(loggerFactory);
        var rpc = BuildRpc(channel, loggerFactory);
        await rpc.StartAsync(cancellationToken);
        var grpcUri = new Uri(rpc.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

        var logger = loggerFactory.CreateLogger<FunctionsHost>();
        var worker = WorkerProcess.Start(settings, grpcUri, Guid.NewGuid().ToString(), loggerFactory.CreateLogger("Worker"));
        WebApplication? front = null;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(startTimeout ?? TimeSpan.FromMinutes(2));
            var started = await Task.WhenAny(channel.Started, worker.Exited).WaitAsync(timeout.Token);
            if (started != channel.Started)
            {
                throw new InvalidOperationException("The worker stopped before it connected: " + worker.ExitReason);
            }

            var (workerUri, functions) = await InitializeAsync(channel, settings, worker, timeout.Token);
#pragma warning disable CA2000 // The host owns it from here and disposes it; on a failed start it holds no connections.
            var httpFront = new HttpFront(channel, loggerFactory.CreateLogger<HttpFront>());
#pragma warning restore CA2000
            httpFront.Configure(workerUri, functions, settings.RoutePrefix);
            front = BuildFront(httpFront, settings.Port, loggerFactory);
            await front.StartAsync(cancellationToken);
            var baseAddress = new Uri(front.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");
            var host = new FunctionsHost(rpc, front, httpFront, worker, channel, functions, baseAddress);
            if (DurableEngine.IsNeeded(functions))
            {
                host._durable = await DurableEngine.CreateAsync(settings, channel, functions, loggerFactory, cancellationToken);
                host.AddDurableClientBindings(host._durable);
                host._durable.Start();
            }

            // Only now can every function run (a [DurableClient] function needs its binding): requests held so far go on.
            httpFront.Open();

            host.StartListeners(settings, loggerFactory);
            host._logger = logger;
            _ = host.WatchWorkerAsync(logger);
            return host;
        }
        catch
        {
            await worker.DisposeAsync();
            if (front is not null)
            {
                await front.DisposeAsync();
            }

            await rpc.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops the listeners, asks the worker to terminate (killing it after the grace period), stops serving.</summary>
    public async Task StopAsync(TimeSpan? grace = null)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        var period = grace ?? TimeSpan.FromSeconds(5);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var steps = new List<string>();
        void Step(string name)
        {
            steps.Add($"{name} {clock.Elapsed.TotalSeconds:0.0} s");
            clock.Restart();
        }

        await _stopping.CancelAsync();
        await Task.WhenAll(_listeners).WaitAsync(period).ContinueWith(_ => { }, TaskScheduler.Default);
        Step("listeners");
        using (var within = new CancellationTokenSource(period))
        {
            await _front.StopAsync(within.Token);
        }

        Step("HTTP");
        if (_durable is not null)
        {
            await _durable.DisposeAsync();
            Step("durable");
        }

        _channel.Send(new StreamingMessage { WorkerTerminate = new WorkerTerminate { GracePeriod = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(period) } });
        await _worker.StopAsync(period);
        Step("worker");
        using (var within = new CancellationTokenSource(period))
        {
            await _rpc.StopAsync(within.Token);
        }

        Step("worker channel");

        // Each step is bounded; which one took the time is what an operator (or a failed test) needs to know.
        _logger?.LogInformation("Stopped: {Steps}", string.Join(", ", steps));
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await StopAsync();
        await _worker.DisposeAsync();
        await _front.DisposeAsync();
        await _rpc.DisposeAsync();
        _httpFront.Dispose();
        _stopping.Dispose();
    }

    private static async Task<(Uri WorkerUri, IReadOnlyList<FunctionDescriptor> Functions)> InitializeAsync(WorkerChannel channel, HostSettings settings, WorkerProcess worker, CancellationToken cancellationToken)
    {
        async Task<StreamingMessage> AskAsync(string key, StreamingMessage message)
        {
            var answer = channel.RequestAsync(key, message, cancellationToken);
            if (await Task.WhenAny(answer, worker.Exited) != answer)
            {
                throw new InvalidOperationException("The worker stopped while starting: " + worker.ExitReason);
            }

            return await answer;
        }

        var init = new WorkerInitRequest { HostVersion = "4.1000.0", WorkerDirectory = settings.AppDirectory, FunctionAppDirectory = settings.AppDirectory };
        foreach (var capability in new[] { "RpcHttpBodyOnly", "RawHttpBodyBytes", "TypedDataCollection", "RpcHttpTriggerMetadataRemoved", "IgnoreEmptyValuedRpcHttpHeaders", "HandlesWorkerTerminateMessage" })
        {
            init.Capabilities[capability] = "true";
        }

        var initialized = (await AskAsync("init", new StreamingMessage { RequestId = Guid.NewGuid().ToString(), WorkerInitRequest = init })).WorkerInitResponse;
        Require(initialized.Result, "initialise");
        if (!initialized.Capabilities.TryGetValue("HttpUri", out var httpUri))
        {
            throw new InvalidOperationException("The worker did not report an HttpUri: is it an isolated worker with the ASP.NET Core integration?");
        }

        var metadata = (await AskAsync("metadata", new StreamingMessage
        {
            RequestId = Guid.NewGuid().ToString(),
            FunctionsMetadataRequest = new FunctionsMetadataRequest { FunctionAppDirectory = settings.AppDirectory },
        })).FunctionMetadataResponse;
        var functions = (metadata.UseDefaultMetadataIndexing ? FromFile(settings.AppDirectory) : [.. metadata.FunctionMetadataResults])
            .Select(FunctionDescriptor.From)
            .ToList();

        // One load request per function: the .NET worker ignores the batched form.
        foreach (var function in functions)
        {
            channel.FunctionNames[function.FunctionId] = function.Name;
            var loaded = (await AskAsync("load:" + function.FunctionId, new StreamingMessage { RequestId = Guid.NewGuid().ToString(), FunctionLoadRequest = function.LoadRequest() })).FunctionLoadResponse;
            Require(loaded.Result, "load " + function.Name);
        }

        return (new Uri(httpUri), functions);
    }

    private static List<RpcFunctionMetadata> FromFile(string appDirectory)
    {
        var list = JsonNode.Parse(File.ReadAllText(Path.Combine(appDirectory, "functions.metadata"))) as JsonArray ?? [];
        return [.. list.OfType<JsonObject>().Select(f =>
        {
            var metadata = new RpcFunctionMetadata
            {
                Name = f["name"]!.GetValue<string>(),
                ScriptFile = f["scriptFile"]?.GetValue<string>() ?? string.Empty,
                EntryPoint = f["entryPoint"]?.GetValue<string>() ?? string.Empty,
                Language = f["language"]?.GetValue<string>() ?? "dotnet-isolated",
                Directory = appDirectory,
            };
            metadata.RawBindings.AddRange((f["bindings"] as JsonArray ?? []).Select(b => b!.ToJsonString()));
            return metadata;
        })];
    }

    private static void Require(StatusResult result, string what)
    {
        if (result.Status != StatusResult.Types.Status.Success)
        {
            throw new InvalidOperationException($"The worker could not {what}: {result.Exception?.Message ?? result.Result}");
        }
    }

    /// <summary>The durable task hub the host runs, or null when the app has no durable functions.</summary>
    public DurableEngine? Durable => _durable;

    // Every invocation of a function with a [DurableClient] parameter carries the binding's value, as the extension sends it.
    private void AddDurableClientBindings(DurableEngine durable)
    {
        var clients = Functions.ToDictionary(f => f.FunctionId, f => f.Bindings.Where(b => b.Type == "durableClient" && b.Direction == "in").Select(b => b.Name).ToList());
        var value = durable.ClientBinding(BaseAddress);
        _channel.BeforeInvoke = request =>
        {
            foreach (var name in clients.GetValueOrDefault(request.FunctionId) ?? [])
            {
                request.InputData.Add(new ParameterBinding { Name = name, Data = new TypedData { String = value } });
            }
        };
    }

    private void StartListeners(HostSettings settings, ILoggerFactory loggerFactory)
    {
        var queues = new QueueClients(settings);
        foreach (var function in Functions)
        {
            var logger = loggerFactory.CreateLogger("Function." + function.Name);
            if (settings.IsDisabled(function.Name))
            {
                logger.LogInformation("{Function} is disabled by its app setting", function.Name);
                continue;
            }

            switch (function.Trigger.Type.ToUpperInvariant())
            {
                case "QUEUETRIGGER":
                    _listeners.Add(Task.Run(() => new QueueTriggerListener(function, settings, _channel, queues, logger).RunAsync(_stopping.Token)));
                    break;
                case "TIMERTRIGGER":
                    _listeners.Add(Task.Run(() => new TimerTriggerListener(function, settings, _channel, queues, TimeProvider.System, logger).RunAsync(_stopping.Token)));
                    break;
                case "HTTPTRIGGER":
                case "ORCHESTRATIONTRIGGER" when _durable is not null:
                case "ACTIVITYTRIGGER" when _durable is not null:
                    // Served by the HTTP front and the durable engine.
                    break;
                default:
                    logger.LogWarning("{Function} has a {Trigger}, which this host does not run", function.Name, function.Trigger.Type);
                    break;
            }
        }
    }

    private async Task WatchWorkerAsync(ILogger logger)
    {
        // A provider that cannot start leaves orchestrations without an engine: as fatal as a dead worker.
        var durableFailed = _durable?.StartFailed ?? Task.Delay(Timeout.Infinite, _stopping.Token);
        if (await Task.WhenAny(_worker.Exited, _channel.Closed, durableFailed) == durableFailed && durableFailed.IsCompletedSuccessfully)
        {
            if (Volatile.Read(ref _stopped) == 1)
            {
                return;
            }

            var failure = await _durable!.StartFailed;
            logger.LogCritical("The durable engine cannot run: {Reason}", failure);
            _failed.TrySetResult(failure);
            return;
        }

        if (Volatile.Read(ref _stopped) == 0)
        {
            // Give the process a moment to exit after its stream closed, so the reason carries its exit code.
            await Task.WhenAny(_worker.Exited, Task.Delay(2000));
            var reason = _worker.Exited.IsCompleted ? _worker.ExitReason : "the worker closed its stream";
            logger.LogCritical("The worker stopped: {Reason}", reason);
            _failed.TrySetResult(reason);
        }
    }

    private static WebApplication BuildRpc(WorkerChannel channel, ILoggerFactory loggerFactory)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<ILoggerFactory>(new QuietServerLogging(loggerFactory));
        builder.Services.AddSingleton(channel);
        builder.Services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = null;
            o.MaxSendMessageSize = null;
        });
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2));
        var app = builder.Build();
        app.MapGrpcService<FunctionRpcService>();
        return app;
    }

    private static WebApplication BuildFront(HttpFront front, int port, ILoggerFactory loggerFactory)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<ILoggerFactory>(new QuietServerLogging(loggerFactory));
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = 100 * 1024 * 1024;
            k.RequestHeaderEncodingSelector = _ => System.Text.Encoding.UTF8;
            k.Listen(IPAddress.Loopback, port);
        });
        var app = builder.Build();
        app.Run(front.HandleAsync);
        return app;
    }
}

/// <summary>
/// The host's own servers log through the host's logger factory only from Warning: their request lines carry URLs,
/// and query strings carry phone numbers.
/// </summary>
internal sealed class QuietServerLogging(ILoggerFactory inner) : ILoggerFactory
{
    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public ILogger CreateLogger(string categoryName) => new Filtered(inner.CreateLogger(categoryName));

    public void Dispose()
    {
        // The inner factory belongs to whoever started the host.
    }

    private sealed class Filtered(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning && inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
