using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using DurableTask.AzureStorage;
using DurableTask.Core;
using Google.Protobuf;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Azure.WebJobs.Script.Grpc.Messages;
using Microsoft.DurableTask.Testing.Sidecar.Grpc;
using P = Microsoft.DurableTask.Protobuf;

namespace Loyalty.LocalHost;

/// <summary>
/// Durable Functions, run locally as the host's Durable extension runs them in Azure: the Durable Task Framework's
/// Azure Storage provider (<see cref="AzureStorageOrchestrationService"/>, on the storage of
/// <c>AzureWebJobsStorage</c> or host.json's <c>storageProvider.connectionName</c>) behind the Durable Task gRPC server
/// (<see cref="TaskHubGrpcServer"/>), which dispatches the provider's work items. The engine takes them from the
/// server's work-item stream and invokes the worker: an orchestration work item goes to the orchestrationTrigger
/// function as the base64 <c>OrchestratorRequest</c> and its base64 <c>OrchestratorResponse</c> goes back; an activity
/// work item goes to the activityTrigger function with its JSON input. A <c>[DurableClient]</c> binding points the
/// worker's own Durable Task client at the same server.
/// </summary>
public sealed class DurableEngine : IAsyncDisposable
{
    private readonly WebApplication _server;
    private readonly ProviderGuard _provider;
    private readonly GrpcChannel _channel;
    private readonly WorkerChannel _worker;
    private readonly Dictionary<string, FunctionDescriptor> _orchestrators;
    private readonly Dictionary<string, FunctionDescriptor> _activities;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private Task _pump = Task.CompletedTask;

    private DurableEngine(WebApplication server, ProviderGuard provider, Uri address, string hubName, WorkerChannel worker, IReadOnlyList<FunctionDescriptor> functions, ILogger logger)
    {
        _server = server;
        _provider = provider;
        Address = address;
        HubName = hubName;
        _worker = worker;
        _logger = logger;
        _channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { MaxReceiveMessageSize = null, MaxSendMessageSize = null });
        _orchestrators = ByTrigger(functions, "orchestrationTrigger", "orchestration");
        _activities = ByTrigger(functions, "activityTrigger", "activity");
    }

    /// <summary>The Durable Task gRPC server (the <c>rpcBaseUrl</c> of <c>[DurableClient]</c> bindings).</summary>
    public Uri Address { get; }

    /// <summary>Completes with the reason if the provider could not start (the server starts it once work is asked for).</summary>
    public Task<string> StartFailed => _provider.StartFailed;

    /// <summary>The task hub: its tables, queues and lease container carry this name.</summary>
    public string HubName { get; }

    /// <summary>Whether the app has durable functions (an orchestration or activity trigger, or a durable client).</summary>
    public static bool IsNeeded(IEnumerable<FunctionDescriptor> functions) =>
        functions.SelectMany(f => f.Bindings).Any(b => b.Type is "orchestrationTrigger" or "activityTrigger" or "durableClient" or "entityTrigger");

    /// <summary>Creates the task hub if missing and starts the gRPC server; work flows once <see cref="Start"/> is called.</summary>
    public static async Task<DurableEngine> CreateAsync(HostSettings settings, WorkerChannel worker, IReadOnlyList<FunctionDescriptor> functions, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var options = DurableSettings.From(settings);
        // The provider logs every queue and partition step at Information: only its warnings reach the host's log.
        var service = new AzureStorageOrchestrationService(options.ToServiceSettings(new QuietServerLogging(loggerFactory)));
        await service.CreateIfNotExistsAsync();

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<ILoggerFactory>(new QuietServerLogging(loggerFactory));
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = null;
            o.MaxSendMessageSize = null;
        });
        var logger = loggerFactory.CreateLogger<DurableEngine>();
        var provider = new ProviderGuard(service, logger);

        // The server starts and stops the provider it is given for dispatching; that one is guarded (ProviderGuard).
        builder.Services.AddSingleton<IOrchestrationService>(provider);
        builder.Services.AddSingleton<IOrchestrationServiceClient>(service);
        builder.Services.AddSingleton<TaskHubGrpcServer>();
        var server = builder.Build();
        server.MapGrpcService<TaskHubGrpcServer>();
        await server.StartAsync(cancellationToken);
        var address = new Uri(server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return new DurableEngine(server, provider, address, options.HubName, worker, functions, logger);
    }

    /// <summary>Deletes the task hub the settings name (its tables, queues and blob containers), as a test cleans up.</summary>
    public static async Task DeleteTaskHubAsync(HostSettings settings, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var service = new AzureStorageOrchestrationService(DurableSettings.From(settings).ToServiceSettings(new QuietServerLogging(loggerFactory)));
        await service.DeleteAsync();
    }

    /// <summary>The value of a <c>[DurableClient]</c> input binding, as the Durable extension hands it to an isolated worker.</summary>
    public string ClientBinding(Uri httpBaseAddress) => new JsonObject
    {
        ["taskHubName"] = HubName,
        ["connectionName"] = "Storage",
        ["rpcBaseUrl"] = Address.ToString(),
        ["requiredQueryStringParameters"] = string.Empty,
        ["httpBaseUrl"] = new Uri(httpBaseAddress, "runtime/webhooks/durabletask/").ToString(),

        // Without it every client call fails ("exceeds the maximum configured message size"; platform.md).
        ["maxGrpcMessageSizeInBytes"] = int.MaxValue,
    }.ToJsonString();

    /// <summary>Opens the work-item stream: from here the server dispatches and the worker runs the work.</summary>
    public void Start() => _pump = Task.Run(() => PumpAsync(_stopping.Token));

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var pumpStopped = TimeSpan.Zero;
        var providerStopped = TimeSpan.Zero;
        await _stopping.CancelAsync();
        try
        {
            await _pump.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception ex) when (ex is OperationCanceledException or Grpc.Core.RpcException or IOException)
        {
            // Stopping: the work-item stream ends cancelled, or aborted when the server noticed the cancellation first
            // (Unavailable, "The request was aborted"; seen in a CI run). Either way nothing more comes from it.
        }
        catch (TimeoutException)
        {
            // A work item still running in the worker: it is abandoned with the provider below, and runs again later.
            _logger.LogWarning("The work-item pump of {HubName} did not stop within 10 s", HubName);
        }

        _channel.Dispose();
        pumpStopped = clock.Elapsed;

        // The provider is stopped here, forced (its sessions aborted, so releasing the partition leases does not wait for
        // them) and awaited, before the server. Stopping the server stops its dispatchers and then the provider too, but
        // in the background: the server does not wait for it. A caller that deleted the task hub next (a test cleaning
        // up) then took the partition table from under the provider's shutdown, which retried for its 10-minute limit and
        // threw from a thread-pool callback, crashing the process (seen in a CI run). Stopped first, the provider has released its
        // leases before anything is deleted; the dispatchers' last polls of the stopped provider are cancelled.
        try
        {
            // Through the guard: it waits for a start under way, skips a provider that never started, and keeps the
            // server's own stop below from stopping it a second time.
            await _provider.StopAsync(isForced: true).WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            _logger.LogWarning("The Durable Task provider of {HubName} did not stop within 60 s", HubName);
        }
#pragma warning disable CA1031 // Whatever the provider's stop throws (never started, storage gone), the server must still stop.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _logger.LogWarning(ex, "The Durable Task provider of {HubName} stopped with an error", HubName);
        }
        finally
        {
            providerStopped = clock.Elapsed;

            // Open calls (a client's long poll for an instance, say) hold a server's stop for the host's 30 s default.
            using var within = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _server.StopAsync(within.Token);
            await _server.DisposeAsync();
            _stopping.Dispose();
            _logger.LogInformation(
                "Durable engine of {HubName} stopped: work items {Pump:0.0} s, provider {Provider:0.0} s, gRPC server {Server:0.0} s",
                HubName, pumpStopped.TotalSeconds, (providerStopped - pumpStopped).TotalSeconds, (clock.Elapsed - providerStopped).TotalSeconds);
        }
    }

    private static Dictionary<string, FunctionDescriptor> ByTrigger(IEnumerable<FunctionDescriptor> functions, string type, string nameProperty) =>
        functions.Where(f => f.Bindings.Any(b => b.Type == type))
            .ToDictionary(f => f.Bindings.First(b => b.Type == type).Property(nameProperty) ?? f.Name, StringComparer.OrdinalIgnoreCase);

    private async Task PumpAsync(CancellationToken cancellationToken)
    {
        var client = new P.TaskHubSidecarService.TaskHubSidecarServiceClient(_channel);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                using var stream = client.GetWorkItems(new P.GetWorkItemsRequest(), cancellationToken: cancellationToken);
                while (await stream.ResponseStream.MoveNext(cancellationToken))
                {
                    var item = stream.ResponseStream.Current;
                    _ = Task.Run(() => item.RequestCase switch
                    {
                        P.WorkItem.RequestOneofCase.OrchestratorRequest => RunOrchestratorAsync(client, item.OrchestratorRequest, cancellationToken),
                        P.WorkItem.RequestOneofCase.ActivityRequest => RunActivityAsync(client, item.ActivityRequest, cancellationToken),
                        _ => Task.CompletedTask,
                    }, cancellationToken);
                }
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is Grpc.Core.RpcException or IOException)
            {
                _logger.LogWarning(ex, "The durable work-item stream broke; reopening it");
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
    }

    private async Task RunOrchestratorAsync(P.TaskHubSidecarService.TaskHubSidecarServiceClient client, P.OrchestratorRequest request, CancellationToken cancellationToken)
    {
        var name = request.PastEvents.Concat(request.NewEvents).Select(e => e.ExecutionStarted?.Name).FirstOrDefault(n => n is not null) ?? string.Empty;
        P.OrchestratorResponse response;
        if (!_orchestrators.TryGetValue(name, out var function))
        {
            response = Failed(request.InstanceId, "OrchestrationNotFound", $"No orchestrationTrigger function is named {name}.");
        }
        else
        {
            InvocationResponse answer;
            try
            {
                answer = await InvokeAsync(function, new TypedData { String = request.ToByteString().ToBase64() }, cancellationToken);
            }
            catch (IOException ex)
            {
                // The worker went away mid-episode: nothing is committed, and the provider hands the episode to the
                // next host once its control message becomes visible again.
                _logger.LogWarning("{Orchestration} {InstanceId}: the worker did not answer ({Reason}); left for the next host", name, request.InstanceId, ex.Message);
                return;
            }

            response = answer.Result.Status == StatusResult.Types.Status.Success && answer.ReturnValue?.String is { Length: > 0 } encoded
                ? P.OrchestratorResponse.Parser.ParseFrom(Convert.FromBase64String(encoded))
                : Failed(request.InstanceId, answer.Result.Exception?.Type ?? "OrchestratorFailed", answer.Result.Exception?.Message ?? "The orchestrator returned no response.");
        }

        // The server holds the work item until it is completed, so it is completed whatever the orchestrator answered.
        response.InstanceId = request.InstanceId;
        await client.CompleteOrchestratorTaskAsync(response, cancellationToken: cancellationToken);
    }

    private async Task RunActivityAsync(P.TaskHubSidecarService.TaskHubSidecarServiceClient client, P.ActivityRequest request, CancellationToken cancellationToken)
    {
        var response = new P.ActivityResponse { InstanceId = request.OrchestrationInstance.InstanceId, TaskId = request.TaskId };
        if (!_activities.TryGetValue(request.Name, out var function))
        {
            response.FailureDetails = new P.TaskFailureDetails { ErrorType = "ActivityNotFound", ErrorMessage = $"No activityTrigger function is named {request.Name}." };
        }
        else
        {
            InvocationResponse answer;
            try
            {
                answer = await InvokeAsync(function, new TypedData { String = Unwrap(request.Input) }, cancellationToken);
            }
            catch (IOException ex)
            {
                // Activities are at least once: one whose worker went away runs again on the next host, after the
                // work-item queue's visibility timeout; it is not reported as failed.
                _logger.LogWarning("{Activity} of {InstanceId}: the worker did not answer ({Reason}); left for the next host", request.Name, response.InstanceId, ex.Message);
                return;
            }

            if (answer.Result.Status == StatusResult.Types.Status.Success)
            {
                response.Result = ResultJson(answer.ReturnValue);
            }
            else
            {
                response.FailureDetails = new P.TaskFailureDetails
                {
                    ErrorType = answer.Result.Exception?.Type ?? "ActivityFailed",
                    ErrorMessage = answer.Result.Exception?.Message ?? "The activity failed.",
                    StackTrace = answer.Result.Exception?.StackTrace ?? string.Empty,
                };
            }
        }

        await client.CompleteActivityTaskAsync(response, cancellationToken: cancellationToken);
    }

    private Task<InvocationResponse> InvokeAsync(FunctionDescriptor function, TypedData input, CancellationToken cancellationToken)
    {
        var request = new InvocationRequest { FunctionId = function.FunctionId, InvocationId = Guid.NewGuid().ToString() };
        request.InputData.Add(new ParameterBinding { Name = function.Trigger.Name, Data = input });
        return _worker.InvokeAsync(request, cancellationToken);
    }

    /// <summary>An isolated orchestrator sends an activity's input wrapped in a one-element JSON array; the activity gets the element.</summary>
    internal static string Unwrap(string? input)
    {
        if (string.IsNullOrEmpty(input))
        {
            return string.Empty;
        }

        try
        {
            return JsonNode.Parse(input) is JsonArray { Count: 1 } wrapped ? wrapped[0]?.ToJsonString() ?? "null" : input;
        }
        catch (JsonException)
        {
            return input;
        }
    }

    /// <summary>The activity's return value as the JSON the orchestrator deserializes.</summary>
    internal static string? ResultJson(TypedData? value) => value?.DataCase switch
    {
        TypedData.DataOneofCase.Json => value.Json,
        TypedData.DataOneofCase.String => JsonSerializer.Serialize(value.String),
        TypedData.DataOneofCase.Int => value.Int.ToString(CultureInfo.InvariantCulture),
        TypedData.DataOneofCase.Double => value.Double.ToString("R", CultureInfo.InvariantCulture),
        _ => null,
    };

    private static P.OrchestratorResponse Failed(string instanceId, string type, string message) => new()
    {
        InstanceId = instanceId,
        Actions =
        {
            new P.OrchestratorAction
            {
                Id = -1,
                CompleteOrchestration = new P.CompleteOrchestrationAction
                {
                    OrchestrationStatus = P.OrchestrationStatus.Failed,
                    FailureDetails = new P.TaskFailureDetails { ErrorType = type, ErrorMessage = message },
                },
            },
        },
    };
}

/// <summary>
/// host.json's <c>extensions.durableTask</c>, read with the Durable extension's names and defaults where they matter
/// on Azurite: <c>hubName</c>, <c>maxConcurrentActivityFunctions</c>, <c>maxConcurrentOrchestratorFunctions</c>, and
/// <c>storageProvider</c>'s <c>connectionName</c>, <c>partitionCount</c>, <c>maxQueuePollingInterval</c>,
/// <c>controlQueueVisibilityTimeout</c> and <c>workItemQueueVisibilityTimeout</c>.
/// </summary>
public sealed record DurableSettings
{
    /// <summary>The task hub's name.</summary>
    public string HubName { get; init; } = "TestHubName";

    /// <summary>The setting holding the storage connection string.</summary>
    public string ConnectionString { get; init; } = string.Empty;

    /// <summary>Control-queue partitions.</summary>
    public int PartitionCount { get; init; } = 4;

    /// <summary>Longest wait between polls of an empty queue.</summary>
    public TimeSpan MaxQueuePollingInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a control message stays invisible while its orchestration runs (crash recovery after it).</summary>
    public TimeSpan ControlQueueVisibilityTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a work item stays invisible while its activity runs (crash recovery after it).</summary>
    public TimeSpan WorkItemQueueVisibilityTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Activities run at once.</summary>
    public int MaxConcurrentActivities { get; init; } = 10 * Environment.ProcessorCount;

    /// <summary>Orchestration episodes run at once.</summary>
    public int MaxConcurrentOrchestrations { get; init; } = 10 * Environment.ProcessorCount;

    /// <summary>Who owns the control-queue partitions: <c>WEBSITE_INSTANCE_ID</c>, else the machine name.</summary>
    public string WorkerId { get; init; } = Environment.MachineName;

    /// <summary>Reads the settings from host.json's section, resolving <c>%Setting%</c> in the hub name.</summary>
    public static DurableSettings From(HostSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var section = settings.DurableTask;
        var provider = section?["storageProvider"];
        var connectionName = Text(provider?["connectionName"]) ?? Text(provider?["connectionStringName"]) ?? "AzureWebJobsStorage";
        var defaults = new DurableSettings();
        return new DurableSettings
        {
            HubName = Text(section?["hubName"]) is { } hub ? settings.Resolve(hub) : defaults.HubName,
            ConnectionString = settings.Get(connectionName) ?? throw new InvalidOperationException($"Durable functions need the storage connection string in the setting {connectionName}."),
            PartitionCount = Number(provider?["partitionCount"]) ?? defaults.PartitionCount,
            MaxQueuePollingInterval = Duration(provider?["maxQueuePollingInterval"]) ?? defaults.MaxQueuePollingInterval,
            ControlQueueVisibilityTimeout = Duration(provider?["controlQueueVisibilityTimeout"]) ?? defaults.ControlQueueVisibilityTimeout,
            WorkItemQueueVisibilityTimeout = Duration(provider?["workItemQueueVisibilityTimeout"]) ?? defaults.WorkItemQueueVisibilityTimeout,
            MaxConcurrentActivities = Number(section?["maxConcurrentActivityFunctions"]) ?? defaults.MaxConcurrentActivities,
            MaxConcurrentOrchestrations = Number(section?["maxConcurrentOrchestratorFunctions"]) ?? defaults.MaxConcurrentOrchestrations,
            WorkerId = settings.Get("WEBSITE_INSTANCE_ID") ?? defaults.WorkerId,
        };
    }

    /// <summary>The provider's settings.</summary>
    public AzureStorageOrchestrationServiceSettings ToServiceSettings(ILoggerFactory loggerFactory) => new()
    {
        StorageAccountClientProvider = new StorageAccountClientProvider(ConnectionString),
        TaskHubName = HubName,
        PartitionCount = PartitionCount,
        MaxQueuePollingInterval = MaxQueuePollingInterval,
        ControlQueueVisibilityTimeout = ControlQueueVisibilityTimeout,
        WorkItemQueueVisibilityTimeout = WorkItemQueueVisibilityTimeout,
        MaxConcurrentTaskActivityWorkItems = MaxConcurrentActivities,
        MaxConcurrentTaskOrchestrationWorkItems = MaxConcurrentOrchestrations,
        LoggerFactory = loggerFactory,

        // Stable across restarts of the host on this machine, as an instance id is in Azure: a restarted host takes its
        // partitions back at once instead of waiting for the dead one's leases to expire.
        WorkerId = WorkerId,
    };

    private static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static int? Number(JsonNode? node) => node is JsonValue v && v.TryGetValue<int>(out var n) ? n : null;

    private static TimeSpan? Duration(JsonNode? node) => Text(node) is { } text ? TimeSpan.Parse(text, CultureInfo.InvariantCulture) : null;
}
