using DurableTask.Core;

namespace Loyalty.LocalHost;

/// <summary>
/// The Durable Task provider as the gRPC server's dispatchers see it: every call goes through unchanged, except that
/// starting and stopping are made safe in any order.
/// </summary>
/// <remarks>
/// <see cref="Microsoft.DurableTask.Testing.Sidecar.Grpc.TaskHubGrpcServer"/> starts the provider once the first
/// work-item stream connects and stops it when its host stops, both from <c>async void</c> lifetime callbacks: an
/// exception from either is unhandled and aborts the whole process (exit code 134). DTFx 2.11's Azure Storage provider
/// throws a NullReferenceException when stopped before its start has finished (its stop cancels what the start
/// creates), and the engine stops the provider itself before the server (DurableEngine.DisposeAsync). So a host whose
/// worker died moments after it started crashed instead of exiting 1 with the reason (seen in a CI run). Here a start and
/// a stop never overlap, a stop waits for a start under way, a provider that never started is not stopped, a provider
/// is stopped once, and nothing starts once a stop was asked for. A start that fails is logged and reported through
/// <see cref="StartFailed"/> instead of thrown into the server's callback.
/// </remarks>
#pragma warning disable CA1001 // The semaphore is never disposed: see its comment.
internal sealed class ProviderGuard(IOrchestrationService provider, ILogger logger) : IOrchestrationService
#pragma warning restore CA1001
{
    // Not disposed: the server's stop callback may call StopAsync after the engine is gone, and a disposed semaphore
    // would throw there (into an async void). One whose wait handle is never asked for holds nothing to release.
    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private readonly TaskCompletionSource<string> _startFailed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _started;
    private bool _stopRequested;

    /// <summary>Completes with the reason if the provider could not start.</summary>
    public Task<string> StartFailed => _startFailed.Task;

    public int TaskOrchestrationDispatcherCount => provider.TaskOrchestrationDispatcherCount;

    public int MaxConcurrentTaskOrchestrationWorkItems => provider.MaxConcurrentTaskOrchestrationWorkItems;

    public BehaviorOnContinueAsNew EventBehaviourForContinueAsNew => provider.EventBehaviourForContinueAsNew;

    public int TaskActivityDispatcherCount => provider.TaskActivityDispatcherCount;

    public int MaxConcurrentTaskActivityWorkItems => provider.MaxConcurrentTaskActivityWorkItems;

    public async Task StartAsync()
    {
        await _lifecycle.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_started || _stopRequested)
            {
                return;
            }

            await provider.StartAsync().ConfigureAwait(false);
            _started = true;
        }
#pragma warning disable CA1031 // Thrown, it would abort the process from the server's callback; reported instead.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            logger.LogCritical(ex, "The Durable Task provider could not start");
            _startFailed.TrySetResult("the Durable Task provider could not start: " + ex.Message);

            // A start that failed part of the way may have left its background loops running (DTFx starts its stats
            // loop before taking leases): stopped as far as it goes, whatever that throws.
            try
            {
                await provider.StopAsync(isForced: true).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // Best effort: the start's failure is what is reported.
            catch (Exception stopError)
#pragma warning restore CA1031
            {
                logger.LogDebug(stopError, "Stopping the provider after its failed start threw");
            }
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    public Task StopAsync() => StopAsync(isForced: false);

    public async Task StopAsync(bool isForced)
    {
        if (!_lifecycle.Wait(0))
        {
            // DTFx's start cannot be cancelled; when it is slow (storage retrying), this is where a stop's time goes.
            logger.LogInformation("Stopping the Durable Task provider waits for its start to finish");
            await _lifecycle.WaitAsync().ConfigureAwait(false);
        }

        try
        {
            _stopRequested = true;
            if (!_started)
            {
                return;
            }

            // Marked stopped first: a stop that throws is not tried again by the server's own stop.
            _started = false;
            await provider.StopAsync(isForced).ConfigureAwait(false);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    public Task CreateAsync() => provider.CreateAsync();

    public Task CreateAsync(bool recreateInstanceStore) => provider.CreateAsync(recreateInstanceStore);

    public Task CreateIfNotExistsAsync() => provider.CreateIfNotExistsAsync();

    public Task DeleteAsync() => provider.DeleteAsync();

    public Task DeleteAsync(bool deleteInstanceStore) => provider.DeleteAsync(deleteInstanceStore);

    public bool IsMaxMessageCountExceeded(int currentMessageCount, OrchestrationRuntimeState runtimeState) =>
        provider.IsMaxMessageCountExceeded(currentMessageCount, runtimeState);

    public int GetDelayInSecondsAfterOnProcessException(Exception exception) => provider.GetDelayInSecondsAfterOnProcessException(exception);

    public int GetDelayInSecondsAfterOnFetchException(Exception exception) => provider.GetDelayInSecondsAfterOnFetchException(exception);

    public Task<TaskOrchestrationWorkItem> LockNextTaskOrchestrationWorkItemAsync(TimeSpan receiveTimeout, CancellationToken cancellationToken) =>
        provider.LockNextTaskOrchestrationWorkItemAsync(receiveTimeout, cancellationToken);

    public Task RenewTaskOrchestrationWorkItemLockAsync(TaskOrchestrationWorkItem workItem) => provider.RenewTaskOrchestrationWorkItemLockAsync(workItem);

    public Task CompleteTaskOrchestrationWorkItemAsync(
        TaskOrchestrationWorkItem workItem,
        OrchestrationRuntimeState newOrchestrationRuntimeState,
        IList<TaskMessage> outboundMessages,
        IList<TaskMessage> orchestratorMessages,
        IList<TaskMessage> timerMessages,
        TaskMessage continuedAsNewMessage,
        OrchestrationState orchestrationState) =>
        provider.CompleteTaskOrchestrationWorkItemAsync(workItem, newOrchestrationRuntimeState, outboundMessages, orchestratorMessages, timerMessages, continuedAsNewMessage, orchestrationState);

    public Task AbandonTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem) => provider.AbandonTaskOrchestrationWorkItemAsync(workItem);

    public Task ReleaseTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem) => provider.ReleaseTaskOrchestrationWorkItemAsync(workItem);

    public Task<TaskActivityWorkItem> LockNextTaskActivityWorkItem(TimeSpan receiveTimeout, CancellationToken cancellationToken) =>
        provider.LockNextTaskActivityWorkItem(receiveTimeout, cancellationToken);

    public Task<TaskActivityWorkItem> RenewTaskActivityWorkItemLockAsync(TaskActivityWorkItem workItem) => provider.RenewTaskActivityWorkItemLockAsync(workItem);

    public Task CompleteTaskActivityWorkItemAsync(TaskActivityWorkItem workItem, TaskMessage responseMessage) =>
        provider.CompleteTaskActivityWorkItemAsync(workItem, responseMessage);

    public Task AbandonTaskActivityWorkItemAsync(TaskActivityWorkItem workItem) => provider.AbandonTaskActivityWorkItemAsync(workItem);
}
