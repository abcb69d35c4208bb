using Loyalty.Durable.History;
using Loyalty.Durable.InMemory;
using Loyalty.Durable.Model;
using Loyalty.Durable.Storage;
using Loyalty.Functions.Durable;
using Loyalty.Testing;
using Xunit;

namespace Loyalty.Durable.Tests;

/// <summary>A backend as the suite drives it: the client, plus running everything due and reading history.</summary>
public interface IOrchestrationHarness : IOrchestrationClient
{
    /// <summary>Activity invocations so far.</summary>
    int ActivityInvocations { get; }

    /// <summary>Runs steps, activities and due timers until nothing is left to do now.</summary>
    Task RunUntilIdleAsync();

    /// <summary>Runs pending orchestration steps only, no activities.</summary>
    Task RunStepsOnlyAsync();

    /// <summary>The committed history of the current execution.</summary>
    Task<IReadOnlyList<HistoryEvent>> HistoryAsync(string instanceId);
}

public sealed class InMemoryOrchestrationTests : OrchestrationSuite
{
    protected override IOrchestrationHarness CreateHarness(OrchestrationRegistry registry, ManualClock clock) => new InMemoryHarness(new InMemoryOrchestrationService(registry, clock));

    private sealed class InMemoryHarness(InMemoryOrchestrationService runtime) : IOrchestrationHarness
    {
        public int ActivityInvocations => runtime.ActivityInvocations;

        public Task RunUntilIdleAsync() => runtime.RunUntilIdleAsync();

        public Task RunStepsOnlyAsync() => runtime.RunStepsOnlyAsync();

        public Task<IReadOnlyList<HistoryEvent>> HistoryAsync(string instanceId) => Task.FromResult(runtime.History(instanceId));

        public Task<string> StartAsync(string name, object? input, string? instanceId = null, CancellationToken cancellationToken = default) => runtime.StartAsync(name, input, instanceId, cancellationToken);

        public Task<OrchestrationState?> GetAsync(string instanceId, CancellationToken cancellationToken = default) => runtime.GetAsync(instanceId, cancellationToken);

        public Task RaiseEventAsync(string instanceId, string eventName, object? payload, string? eventId = null, CancellationToken cancellationToken = default) => runtime.RaiseEventAsync(instanceId, eventName, payload, eventId, cancellationToken);

        public Task<bool> TerminateAsync(string instanceId, string reason, CancellationToken cancellationToken = default) => runtime.TerminateAsync(instanceId, reason, cancellationToken);

        public Task<bool> PurgeAsync(string instanceId, CancellationToken cancellationToken = default) => runtime.PurgeAsync(instanceId, cancellationToken);

        public Task<IReadOnlyList<OrchestrationState>> ListAsync(string? name = null, RuntimeStatus? status = null, CancellationToken cancellationToken = default) => runtime.ListAsync(name, status, cancellationToken);
    }
}

/// <summary>The same suite on Azure Table and Queue storage (Azurite), through the app's adapters.</summary>
public sealed class StorageOrchestrationTests(AzuriteFixture azurite) : OrchestrationSuite, IClassFixture<AzuriteFixture>
{
    protected override int ManyInstances => 100;

    protected override IOrchestrationHarness CreateHarness(OrchestrationRegistry registry, ManualClock clock)
    {
        var rig = StorageRig.Create(azurite);
        return new StorageHarness(rig.Service(registry, clock), rig.Control, rig.Work);
    }
}

/// <summary>Fresh durable tables and queues on Azurite, and services over them (several may share one rig).</summary>
public sealed class StorageRig
{
    private StorageRig(IInstanceTable table, IReadOnlyList<QueueChannel> control, QueueChannel work)
    {
        Table = table;
        Control = control;
        Work = work;
    }

    public IInstanceTable Table { get; }

    public IReadOnlyList<QueueChannel> Control { get; }

    public QueueChannel Work { get; }

    public static StorageRig Create(AzuriteFixture azurite)
    {
        var prefix = "d" + Guid.NewGuid().ToString("N")[..8];
        var table = azurite.Tables.GetTableClient(prefix + "Instances");
        var control = Enumerable.Range(0, 4).Select(i => azurite.Queues.GetQueueClient($"{prefix}-control-{i:D2}")).ToList();
        var work = azurite.Queues.GetQueueClient($"{prefix}-work");
        Task.WhenAll(control.Select(q => (Task)q.CreateIfNotExistsAsync()).Append(work.CreateIfNotExistsAsync()).Append(table.CreateIfNotExistsAsync())).GetAwaiter().GetResult();
        return new StorageRig(new TableInstanceTable(table), [.. control.Select(q => new QueueChannel(q))], new QueueChannel(work));
    }

    /// <summary>A service (a dispatcher process) over this rig's storage, optionally over a wrapped table.</summary>
    public StorageOrchestrationService Service(OrchestrationRegistry registry, TimeProvider clock, IInstanceTable? table = null) =>
        new(table ?? Table, Control, Work, registry, clock, new StorageBackendOptions(4, TimeSpan.Zero));
}

/// <summary>
/// Drives a storage backend like a dispatcher: receive, process, delete; a failed step leaves its message. With
/// <paramref name="concurrent"/>, the messages of a batch are processed at once, as the queue trigger does, so two
/// messages of one instance can be in flight together.
/// </summary>
public sealed class StorageHarness(StorageOrchestrationService service, IReadOnlyList<QueueChannel> control, QueueChannel work, TimeSpan? visibility = null, bool concurrent = false) : IOrchestrationHarness
{
        private int _activityInvocations;

        public int ActivityInvocations => _activityInvocations;

        public StorageOrchestrationService Service => service;

        public async Task RunUntilIdleAsync()
        {
            for (var pass = 0; pass < 10_000; pass++)
            {
                var progressed = await RunControlAsync();
                var items = await work.ReceiveAsync(32, visibility ?? TimeSpan.FromSeconds(30), CancellationToken.None);
                await EachAsync(items, async item =>
                {
                    await service.ProcessWorkItemAsync(item.Body);
                    Interlocked.Increment(ref _activityInvocations);
                    try
                    {
                        await work.DeleteAsync(item, CancellationToken.None);
                    }
                    catch (Azure.RequestFailedException ex) when (ex.ErrorCode == "PopReceiptMismatch")
                    {
                        // Redelivered to another dispatcher meanwhile: the activity runs again (at least once).
                    }

                    return true;
                });
                progressed |= items.Count > 0;

                if (!progressed)
                {
                    return;
                }
            }

            throw new TimeoutException("The storage backend never became idle.");
        }

        public async Task RunStepsOnlyAsync() => await RunControlAsync();

        public Task<IReadOnlyList<HistoryEvent>> HistoryAsync(string instanceId) => service.HistoryAsync(instanceId);

        public Task<string> StartAsync(string name, object? input, string? instanceId = null, CancellationToken cancellationToken = default) => service.StartAsync(name, input, instanceId, cancellationToken);

        public Task<OrchestrationState?> GetAsync(string instanceId, CancellationToken cancellationToken = default) => service.GetAsync(instanceId, cancellationToken);

        public Task RaiseEventAsync(string instanceId, string eventName, object? payload, string? eventId = null, CancellationToken cancellationToken = default) => service.RaiseEventAsync(instanceId, eventName, payload, eventId, cancellationToken);

        public Task<bool> TerminateAsync(string instanceId, string reason, CancellationToken cancellationToken = default) => service.TerminateAsync(instanceId, reason, cancellationToken);

        public Task<bool> PurgeAsync(string instanceId, CancellationToken cancellationToken = default) => service.PurgeAsync(instanceId, cancellationToken);

        public Task<IReadOnlyList<OrchestrationState>> ListAsync(string? name = null, RuntimeStatus? status = null, CancellationToken cancellationToken = default) => service.ListAsync(name, status, cancellationToken);

        private async Task<bool> RunControlAsync()
        {
            var progressed = false;
            foreach (var queue in control)
            {
                while (true)
                {
                    var batch = await queue.ReceiveAsync(32, visibility ?? TimeSpan.FromSeconds(30), CancellationToken.None);
                    if (batch.Count == 0)
                    {
                        break;
                    }

                    var anyProgress = await EachAsync(batch, async message =>
                    {
                        try
                        {
                            var stepped = await service.ProcessControlMessageAsync(message.Body);
                            await queue.DeleteAsync(message, CancellationToken.None);
                            return stepped;
                        }
                        catch (Azure.RequestFailedException ex) when (ex.ErrorCode == "PopReceiptMismatch")
                        {
                            // The step outlasted the visibility timeout and another dispatcher holds the message now.
                            return true;
                        }
                        catch (Exception ex) when (ex is DurableConcurrencyException or InjectedCrashException)
                        {
                            // Another dispatcher won, or this one "crashed": the message comes back after its visibility timeout.
                            return true;
                        }
                    });

                    progressed |= anyProgress;
                    if (!anyProgress)
                    {
                        // Only timers that are not due yet came back: they are queued again; stop for now.
                        break;
                    }
                }
            }

            return progressed;
        }

        // Runs the handler over a batch, one at a time or all at once; true when any handled message made progress.
        private async Task<bool> EachAsync(IReadOnlyList<ReceivedMessage> batch, Func<ReceivedMessage, Task<bool>> handle)
        {
            if (concurrent)
            {
                return (await Task.WhenAll(batch.Select(handle))).Any(p => p);
            }

            var any = false;
            foreach (var message in batch)
            {
                any |= await handle(message);
            }

            return any;
        }
    }
