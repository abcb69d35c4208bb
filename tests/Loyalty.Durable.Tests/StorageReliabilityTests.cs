using System.Collections.Concurrent;
using Loyalty.Durable.History;
using Loyalty.Durable.InMemory;
using Loyalty.Durable.Model;
using Loyalty.Durable.Storage;
using Loyalty.Testing;
using Xunit;

namespace Loyalty.Durable.Tests;

/// <summary>A dispatcher "crash" injected by the tests.</summary>
public sealed class InjectedCrashException(string message) : Exception(message);

/// <summary>Counts how often each (instance, task) ran: activities must key their effects by both.</summary>
internal sealed class Recording(ConcurrentDictionary<string, int> runs) : TaskActivity<int, int>
{
    public override Task<int> RunAsync(TaskActivityContext context, int input)
    {
        runs.AddOrUpdate($"{context.InstanceId}/{context.TaskId}", 1, (_, n) => n + 1);
        return Task.FromResult(input + 1);
    }
}

internal sealed class Chain : TaskOrchestrator<int, int>
{
    public override async Task<int> RunAsync(TaskOrchestrationContext context, int input)
    {
        var value = input;
        for (var i = 0; i < 3; i++)
        {
            value = await context.CallActivityAsync<int>("Recording", value);
        }

        return value;
    }
}

internal sealed class Parallel3 : TaskOrchestrator<int, int>
{
    public override async Task<int> RunAsync(TaskOrchestrationContext context, int input) =>
        (await Task.WhenAll(Enumerable.Range(0, 3).Select(i => context.CallActivityAsync<int>("Recording", i * 10)))).Sum();
}

/// <summary>Waits a random few milliseconds before each table call and send, so that concurrent steps interleave in many orders.</summary>
internal sealed class Jitter(IInstanceTable inner, int seed, int maxMs) : IInstanceTable
{
    private readonly Random _random = new(seed);

    public IMessageChannel Channel(IMessageChannel channel) => new JitteredChannel(this, channel);

    public async Task<DurableRow?> GetAsync(string instanceId, string rowKey, CancellationToken cancellationToken)
    {
        await PauseAsync();
        return await inner.GetAsync(instanceId, rowKey, cancellationToken);
    }

    public async Task<IReadOnlyList<DurableRow>> QueryAsync(string instanceId, string rowKeyPrefix, CancellationToken cancellationToken)
    {
        await PauseAsync();
        return await inner.QueryAsync(instanceId, rowKeyPrefix, cancellationToken);
    }

    public Task<IReadOnlyList<(string InstanceId, DurableRow Row)>> QueryAllAsync(string rowKey, CancellationToken cancellationToken) => inner.QueryAllAsync(rowKey, cancellationToken);

    public async Task<bool> TransactAsync(string instanceId, IReadOnlyList<DurableRow> upserts, IReadOnlyList<string> deletes, DurableRow? header, CancellationToken cancellationToken)
    {
        await PauseAsync();
        return await inner.TransactAsync(instanceId, upserts, deletes, header, cancellationToken);
    }

    public Task DeletePartitionAsync(string instanceId, CancellationToken cancellationToken) => inner.DeletePartitionAsync(instanceId, cancellationToken);

    private Task PauseAsync()
    {
        int ms;
        lock (_random)
        {
            ms = _random.Next(0, maxMs);
        }

        return Task.Delay(ms);
    }

    private sealed class JitteredChannel(Jitter jitter, IMessageChannel inner) : IMessageChannel
    {
        public async Task SendAsync(string body, TimeSpan delay, CancellationToken cancellationToken)
        {
            await jitter.PauseAsync();
            await inner.SendAsync(body, delay, cancellationToken);
        }

        public Task<IReadOnlyList<ReceivedMessage>> ReceiveAsync(int max, TimeSpan visibility, CancellationToken cancellationToken) => inner.ReceiveAsync(max, visibility, cancellationToken);

        public Task DeleteAsync(ReceivedMessage message, CancellationToken cancellationToken) => inner.DeleteAsync(message, cancellationToken);
    }
}

/// <summary>Three windows of four parallel activity calls, like the gift-pack campaign's batches.</summary>
internal sealed class Windows : TaskOrchestrator<int, int>
{
    public override async Task<int> RunAsync(TaskOrchestrationContext context, int input)
    {
        var total = 0;
        for (var window = 0; window < 3; window++)
        {
            total += (await Task.WhenAll(Enumerable.Range(0, 4).Select(i => context.CallActivityAsync<int>("Recording", input + (window * 4) + i)))).Sum();
        }

        return total;
    }
}

/// <summary>Calls one activity per item at once: more messages in one step than one transaction has rows.</summary>
internal sealed class WideFanOut : TaskOrchestrator<int, int>
{
    public override async Task<int> RunAsync(TaskOrchestrationContext context, int input) =>
        (await Task.WhenAll(Enumerable.Range(0, input).Select(i => context.CallActivityAsync<int>("Recording", i)))).Sum();
}

/// <summary>Calls two activities, and as soon as either completes fans out to <c>input</c> more; then waits for all.</summary>
internal sealed class PairThenWide : TaskOrchestrator<int, int>
{
    public override async Task<int> RunAsync(TaskOrchestrationContext context, int input)
    {
        var pair = new[] { context.CallActivityAsync<int>("Recording", 0), context.CallActivityAsync<int>("Recording", 1) };
        await Task.WhenAny(pair);
        var wide = await Task.WhenAll(Enumerable.Range(2, input).Select(i => context.CallActivityAsync<int>("Recording", i)));
        return (await Task.WhenAll(pair)).Sum() + wide.Sum();
    }
}

/// <summary>Calls <c>input</c> activities at once, and finishes when they are done and the event <c>go</c> has come.</summary>
internal sealed class FanOutThenWait : TaskOrchestrator<int, int>
{
    public override async Task<int> RunAsync(TaskOrchestrationContext context, int input)
    {
        var calls = Enumerable.Range(0, input).Select(i => context.CallActivityAsync<int>("Recording", i)).ToList();
        var go = await context.WaitForExternalEvent<int>("go");
        return (await Task.WhenAll(calls)).Sum() + go;
    }
}

/// <summary>Calls one activity, then continues as new with the next number until it reaches 2.</summary>
internal sealed class Restarting : TaskOrchestrator<int, int>
{
    public override async Task<int> RunAsync(TaskOrchestrationContext context, int input)
    {
        var value = await context.CallActivityAsync<int>("Recording", input);
        if (input < 2)
        {
            context.ContinueAsNew(input + 1);
        }

        return value;
    }
}

/// <summary>Refuses the first checkpoint as if another dispatcher had moved the header.</summary>
internal sealed class LoseFirstCheckpoint(IInstanceTable inner) : IInstanceTable
{
    private int _lost;

    public Task<DurableRow?> GetAsync(string instanceId, string rowKey, CancellationToken cancellationToken) => inner.GetAsync(instanceId, rowKey, cancellationToken);

    public Task<IReadOnlyList<DurableRow>> QueryAsync(string instanceId, string rowKeyPrefix, CancellationToken cancellationToken) => inner.QueryAsync(instanceId, rowKeyPrefix, cancellationToken);

    public Task<IReadOnlyList<(string InstanceId, DurableRow Row)>> QueryAllAsync(string rowKey, CancellationToken cancellationToken) => inner.QueryAllAsync(rowKey, cancellationToken);

    public Task<bool> TransactAsync(string instanceId, IReadOnlyList<DurableRow> upserts, IReadOnlyList<string> deletes, DurableRow? header, CancellationToken cancellationToken) =>
        header is not null && header.ETag is not null && Interlocked.Exchange(ref _lost, 1) == 0
            ? Task.FromResult(false)
            : inner.TransactAsync(instanceId, upserts, deletes, header, cancellationToken);

    public Task DeletePartitionAsync(string instanceId, CancellationToken cancellationToken) => inner.DeletePartitionAsync(instanceId, cancellationToken);
}

/// <summary>Once armed, the next checkpoint commits and then fails: the dispatcher dies between commit and dispatch.</summary>
internal sealed class CrashAfterCheckpoint(IInstanceTable inner) : IInstanceTable
{
    private int _armed;

    public void Arm() => _armed = 1;

    public Task<DurableRow?> GetAsync(string instanceId, string rowKey, CancellationToken cancellationToken) => inner.GetAsync(instanceId, rowKey, cancellationToken);

    public Task<IReadOnlyList<DurableRow>> QueryAsync(string instanceId, string rowKeyPrefix, CancellationToken cancellationToken) => inner.QueryAsync(instanceId, rowKeyPrefix, cancellationToken);

    public Task<IReadOnlyList<(string InstanceId, DurableRow Row)>> QueryAllAsync(string rowKey, CancellationToken cancellationToken) => inner.QueryAllAsync(rowKey, cancellationToken);

    public async Task<bool> TransactAsync(string instanceId, IReadOnlyList<DurableRow> upserts, IReadOnlyList<string> deletes, DurableRow? header, CancellationToken cancellationToken)
    {
        var done = await inner.TransactAsync(instanceId, upserts, deletes, header, cancellationToken);
        return done && header is not null && Interlocked.CompareExchange(ref _armed, 0, 1) == 1
            ? throw new InjectedCrashException("dispatcher died after its checkpoint")
            : done;
    }

    public Task DeletePartitionAsync(string instanceId, CancellationToken cancellationToken) => inner.DeletePartitionAsync(instanceId, cancellationToken);
}

/// <summary>
/// Holds one dispatcher at chosen points so that two dispatchers of one instance interleave as they can in production:
/// <see cref="HoldOutboxDeletes"/> parks its outbox deletes, <see cref="HoldDispatchAfterCheckpoint"/> parks it between
/// its next checkpoint and the dispatch that follows, <see cref="HoldNextWrite"/> parks its next table write of any kind.
/// Each hold is released by its own gate.
/// </summary>
internal sealed class Interleaving(IInstanceTable inner) : IInstanceTable
{
    private int _holdDeletes;
    private int _holdDispatch;
    private int _holdWrite;

    public TaskCompletionSource WriteGate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource WriteReached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void HoldNextWrite() => _holdWrite = 1;

    public TaskCompletionSource DeleteGate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource DispatchGate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Checkpointed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource DeleteReached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void HoldOutboxDeletes() => _holdDeletes = 1;

    public void HoldDispatchAfterCheckpoint() => _holdDispatch = 1;

    public Task<DurableRow?> GetAsync(string instanceId, string rowKey, CancellationToken cancellationToken) => inner.GetAsync(instanceId, rowKey, cancellationToken);

    public Task<IReadOnlyList<DurableRow>> QueryAsync(string instanceId, string rowKeyPrefix, CancellationToken cancellationToken) => inner.QueryAsync(instanceId, rowKeyPrefix, cancellationToken);

    public Task<IReadOnlyList<(string InstanceId, DurableRow Row)>> QueryAllAsync(string rowKey, CancellationToken cancellationToken) => inner.QueryAllAsync(rowKey, cancellationToken);

    public async Task<bool> TransactAsync(string instanceId, IReadOnlyList<DurableRow> upserts, IReadOnlyList<string> deletes, DurableRow? header, CancellationToken cancellationToken)
    {
        if (Interlocked.CompareExchange(ref _holdWrite, 0, 1) == 1)
        {
            WriteReached.TrySetResult();
            await WriteGate.Task;
        }

        if (header is null && upserts.Count == 0 && deletes.Count > 0 && Interlocked.CompareExchange(ref _holdDeletes, 0, 1) == 1)
        {
            DeleteReached.TrySetResult();
            await DeleteGate.Task;
        }

        var done = await inner.TransactAsync(instanceId, upserts, deletes, header, cancellationToken);
        if (done && header is not null && Interlocked.CompareExchange(ref _holdDispatch, 0, 1) == 1)
        {
            Checkpointed.TrySetResult();
            await DispatchGate.Task;
        }

        return done;
    }

    public Task DeletePartitionAsync(string instanceId, CancellationToken cancellationToken) => inner.DeletePartitionAsync(instanceId, cancellationToken);
}

public sealed class StorageReliabilityTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private readonly ConcurrentDictionary<string, int> _runs = new();
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 11, 22, 2, 0, 0, TimeSpan.Zero));

    private OrchestrationRegistry Registry() => new OrchestrationRegistry()
        .AddActivity("Recording", () => new Recording(_runs))
        .AddOrchestrator("Chain", () => new Chain())
        .AddOrchestrator("Parallel3", () => new Parallel3())
        .AddOrchestrator("WideFanOut", () => new WideFanOut())
        .AddOrchestrator("PairThenWide", () => new PairThenWide())
        .AddOrchestrator("FanOutThenWait", () => new FanOutThenWait())
        .AddOrchestrator("Restarting", () => new Restarting())
        .AddOrchestrator("Windows", () => new Windows())
        .AddOrchestrator("Sleeper", () => new Sleeper());

    [Fact]
    public async Task DispatcherDiesAfterCheckpoint_AnotherFinishes_EachActivityOnce()
    {
        var rig = StorageRig.Create(azurite);
        var crashing = new CrashAfterCheckpoint(rig.Table);
        var first = new StorageHarness(rig.Service(Registry(), _clock, crashing), rig.Control, rig.Work, TimeSpan.FromSeconds(3));
        var id = await first.StartAsync("Chain", 0);
        crashing.Arm();
        await first.RunStepsOnlyAsync();

        // The step was committed but its activity never dispatched; a second dispatcher picks the message up again.
        var second = new StorageHarness(rig.Service(Registry(), _clock), rig.Control, rig.Work, TimeSpan.FromSeconds(3));
        await WaitForAsync(second, id, RuntimeStatus.Completed);

        Assert.Equal("3", (await second.GetAsync(id))!.Output);
        Assert.Equal(3, _runs.Count(r => r.Key.StartsWith(id, StringComparison.Ordinal)));
        Assert.All(_runs.Where(r => r.Key.StartsWith(id, StringComparison.Ordinal)), r => Assert.Equal(1, r.Value));
    }

    [Fact]
    public async Task ADispatcherThatDiesAfterContinuingAsNew_TheRedeliveredMessageStillStartsTheNextExecution()
    {
        // The step that continues as new commits the next execution's start in its outbox, and its dispatcher dies
        // before sending it. The message that triggered the step comes back, but it names the previous execution; it
        // must still send what the outbox holds, or nothing ever starts the next execution.
        var rig = StorageRig.Create(azurite);
        var crashing = new CrashAfterCheckpoint(rig.Table);
        var service = rig.Service(Registry(), _clock, crashing);
        var id = await service.StartAsync("Restarting", 0);
        var control = rig.Control[service.PartitionOf(id)];
        var start = await ReceiveOneAsync(control);
        Assert.True(await service.ProcessControlMessageAsync(start.Body));
        await control.DeleteAsync(start, CancellationToken.None);
        var item = await ReceiveOneAsync(rig.Work);
        await service.ProcessWorkItemAsync(item.Body);
        await rig.Work.DeleteAsync(item, CancellationToken.None);

        var completed = await ReceiveOneAsync(control, visibilitySeconds: 1);
        crashing.Arm();
        await Assert.ThrowsAsync<InjectedCrashException>(() => service.ProcessControlMessageAsync(completed.Body));
        Assert.NotEmpty(await rig.Table.QueryAsync(id, "o-", CancellationToken.None));

        // The completion is delivered again after its visibility timeout, here to a harness, and the instance goes on.
        var harness = new StorageHarness(rig.Service(Registry(), _clock), rig.Control, rig.Work, TimeSpan.FromSeconds(3));
        await WaitForAsync(harness, id, RuntimeStatus.Completed);
        Assert.Equal("3", (await harness.GetAsync(id))!.Output); // the third execution's Recording(2)
        Assert.Equal(3, _runs[id + "/0"]); // task 0 of each of the three executions, once each
        Assert.Empty(await rig.Table.QueryAsync(id, "o-", CancellationToken.None));
    }

    [Fact]
    public async Task DuplicatedAndReorderedCompletions_AreAppliedOnceInAnyOrder()
    {
        var rig = StorageRig.Create(azurite);
        var service = rig.Service(Registry(), _clock);
        var harness = new StorageHarness(service, rig.Control, rig.Work);
        var id = await harness.StartAsync("Parallel3", 0);
        await harness.RunStepsOnlyAsync();

        var items = await rig.Work.ReceiveAsync(32, TimeSpan.FromMinutes(1), CancellationToken.None);
        foreach (var item in items.Reverse())
        {
            await service.ProcessWorkItemAsync(item.Body);
            await service.ProcessWorkItemAsync(item.Body);
            await rig.Work.DeleteAsync(item, CancellationToken.None);
        }

        await harness.RunUntilIdleAsync();

        Assert.Equal(3, items.Count);
        Assert.Equal("33", (await harness.GetAsync(id))!.Output); // (0+1) + (10+1) + (20+1)
        var history = await harness.HistoryAsync(id);
        Assert.Equal(3, history.OfType<TaskCompleted>().Select(c => c.TaskId).Distinct().Count());
        Assert.Equal(3, history.OfType<TaskCompleted>().Count());
    }

    [Fact]
    public async Task TwoDispatchersOnTheSameQueues_NeverRunAStepTwice()
    {
        var rig = StorageRig.Create(azurite);
        var a = new StorageHarness(rig.Service(Registry(), _clock), rig.Control, rig.Work, TimeSpan.FromSeconds(5));
        var b = new StorageHarness(rig.Service(Registry(), _clock), rig.Control, rig.Work, TimeSpan.FromSeconds(5));
        var ids = new List<string>();
        for (var i = 0; i < 30; i++)
        {
            ids.Add(await a.StartAsync("Chain", i * 100));
        }

        await RunTogetherAsync("Chain", ids.Count, TimeSpan.FromSeconds(120), a, b);

        Assert.Equal(ids.Count, (await a.ListAsync("Chain", RuntimeStatus.Completed)).Count);
        foreach (var id in ids)
        {
            var history = await a.HistoryAsync(id);
            Assert.Equal(3, history.OfType<TaskScheduled>().Count());
            Assert.Equal(3, history.OfType<TaskCompleted>().Count());
        }

        // Steps are exactly once (above: no history records a task twice). Activities are at least once: every task ran,
        // and a rerun can only come from a work item redelivered after its visibility timeout.
        Assert.Equal(ids.Count * 3, _runs.Count);
    }

    [Fact]
    public async Task TwoDispatchersHandlingWholeBatchesAtOnce_FinishEveryWindowOfEveryInstance()
    {
        // As under the queue trigger: each dispatcher runs the messages of a batch together, so the completions of one
        // window, and the outbox dispatches of consecutive steps, overlap on the same instance. Random pauses before
        // each table call and send vary the order in which they overlap. (This found no fault in the runtime before
        // outbox keys were made unique per step: that race needs the precise order that the interleaving test forces.)
        var rig = StorageRig.Create(azurite);
        StorageHarness Dispatcher(int seed)
        {
            var jitter = new Jitter(rig.Table, seed, 40);
            var service = new StorageOrchestrationService(jitter, [.. rig.Control.Select(jitter.Channel)], jitter.Channel(rig.Work), Registry(), _clock, new StorageBackendOptions(4, TimeSpan.Zero));
            return new StorageHarness(service, rig.Control, rig.Work, TimeSpan.FromSeconds(2), concurrent: true);
        }

        var a = Dispatcher(1);
        var b = Dispatcher(2);
        var ids = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            ids.Add(await a.StartAsync("Windows", i * 100));
        }

        await RunTogetherAsync("Windows", ids.Count, TimeSpan.FromSeconds(150), a, b);

        Assert.Equal(ids.Count, (await a.ListAsync("Windows", RuntimeStatus.Completed)).Count);
        for (var i = 0; i < ids.Count; i++)
        {
            var history = await a.HistoryAsync(ids[i]);
            Assert.Equal(Enumerable.Range(0, 12), history.OfType<TaskCompleted>().Select(c => c.TaskId).Order());
            Assert.Equal(((12 * i * 100) + 66 + 12).ToString(System.Globalization.CultureInfo.InvariantCulture), (await a.GetAsync(ids[i]))!.Output); // sum of (input + k + 1), k < 12
        }

        Assert.Empty((await Task.WhenAll(ids.Select(id => rig.Table.QueryAsync(id, "o-", CancellationToken.None)))).SelectMany(r => r));
    }

    [Fact]
    public async Task TimerFiresAfterARestart()
    {
        var rig = StorageRig.Create(azurite);
        var before = new StorageHarness(rig.Service(Registry(), _clock), rig.Control, rig.Work);
        var id = await before.StartAsync("Sleeper", 90);
        await before.RunUntilIdleAsync();
        var sleeping = (await before.GetAsync(id))!.Status;

        // The first dispatcher is gone; a new one, started later, finds the timer and fires it.
        _clock.Advance(TimeSpan.FromMinutes(90));
        var after = new StorageHarness(rig.Service(Registry(), _clock), rig.Control, rig.Work);
        await after.RunUntilIdleAsync();

        Assert.Equal(RuntimeStatus.Running, sleeping);
        Assert.Equal("\"woke at 03:30\"", (await after.GetAsync(id))!.Output);
    }

    [Fact]
    public async Task ADispatcherDeletingItsSentOutbox_NeverDeletesTheNextStepsMessages()
    {
        // A checkpoints the start and sends the first work item, then is held before deleting its outbox row. Meanwhile
        // the activity completes and B checkpoints the next step, whose outbox holds the second work item, and is held
        // before sending it. Only then does A delete what it sent. When outbox keys were reused from one step to the
        // next, A's delete removed B's row before B dispatched it, and the instance waited forever.
        var rig = StorageRig.Create(azurite);
        var heldA = new Interleaving(rig.Table);
        var heldB = new Interleaving(rig.Table);
        var a = rig.Service(Registry(), _clock, heldA);
        var b = rig.Service(Registry(), _clock, heldB);
        var id = await a.StartAsync("Chain", 0);
        var control = rig.Control[a.PartitionOf(id)];

        var (start, stepA) = await StartStepHeldBeforeItsDeletesAsync(a, heldA, control);
        var firstItem = await ReceiveOneAsync(rig.Work);
        await b.ProcessWorkItemAsync(firstItem.Body);
        await rig.Work.DeleteAsync(firstItem, CancellationToken.None);

        heldB.HoldDispatchAfterCheckpoint();
        var completed = await ReceiveOneAsync(control);
        var stepB = b.ProcessControlMessageAsync(completed.Body);
        await heldB.Checkpointed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        heldA.DeleteGate.SetResult();
        Assert.True(await stepA);
        heldB.DispatchGate.SetResult();
        Assert.True(await stepB);
        await control.DeleteAsync(start, CancellationToken.None);
        await control.DeleteAsync(completed, CancellationToken.None);

        await WaitForAsync(new StorageHarness(rig.Service(Registry(), _clock), rig.Control, rig.Work, TimeSpan.FromSeconds(3)), id, RuntimeStatus.Completed);
        Assert.Equal("3", (await a.GetAsync(id))!.Output);
        var history = await a.HistoryAsync(id);
        Assert.Equal([0, 1, 2], history.OfType<TaskCompleted>().Select(c => c.TaskId));
    }

    [Fact]
    public async Task AStepNeverSendsAnotherStepsOutbox_SoAFanOutRunsEachActivityOnce()
    {
        // A commits a fan-out of 3 calls, sends them, and is held before deleting its outbox rows. Meanwhile B takes the
        // instance's next message, an event. When every step began by sending whatever outbox rows it found, B sent
        // A's 3 calls again, and each activity ran twice.
        var (rig, heldA, a, b) = HeldAndFree();
        var id = await a.StartAsync("FanOutThenWait", 3);
        var control = rig.Control[a.PartitionOf(id)];

        var (start, stepA) = await StartStepHeldBeforeItsDeletesAsync(a, heldA, control);
        await b.RaiseEventAsync(id, "go", 1);
        var go = await ReceiveOneAsync(control);
        Assert.True(await b.ProcessControlMessageAsync(go.Body));
        await control.DeleteAsync(go, CancellationToken.None);
        heldA.DeleteGate.SetResult();
        Assert.True(await stepA);
        await control.DeleteAsync(start, CancellationToken.None);

        var harness = new StorageHarness(rig.Service(Registry(), _clock), rig.Control, rig.Work);
        await WaitForAsync(harness, id, RuntimeStatus.Completed);
        Assert.Equal("7", (await harness.GetAsync(id))!.Output); // (0 + 1) + (1 + 1) + (2 + 1) + the event's 1
        Assert.Equal(3, harness.ActivityInvocations);
        Assert.Equal([1, 1, 1], _runs.Where(r => r.Key.StartsWith(id + "/", StringComparison.Ordinal)).Select(r => r.Value));
    }

    [Fact]
    public async Task TwoWideStepsFromOnePoint_TheLoserNeverOverwritesTheWinnersHistory()
    {
        // Both completions of a pair are handled at once, and each step fans out to 150 calls: more history than one
        // transaction used to hold, so it was written ahead of the header. A takes one completion and is held just
        // before its first write; B takes the other and commits. A's history written ahead then replaced B's committed
        // events with its own: B's completion vanished, A's retried message was dropped as a duplicate, and the
        // instance waited forever.
        var (rig, held, a, b) = HeldAndFree();
        var id = await b.StartAsync("PairThenWide", 150);
        var control = rig.Control[b.PartitionOf(id)];
        var start = await ReceiveOneAsync(control);
        Assert.True(await b.ProcessControlMessageAsync(start.Body));
        await control.DeleteAsync(start, CancellationToken.None);
        for (var i = 0; i < 2; i++)
        {
            var item = await ReceiveOneAsync(rig.Work);
            await b.ProcessWorkItemAsync(item.Body);
            await rig.Work.DeleteAsync(item, CancellationToken.None);
        }

        var first = await ReceiveOneAsync(control);
        var second = await ReceiveOneAsync(control);
        held.HoldNextWrite();
        var stepA = a.ProcessControlMessageAsync(first.Body);
        await held.WriteReached.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(await b.ProcessControlMessageAsync(second.Body));
        held.WriteGate.SetResult();
        await Assert.ThrowsAsync<DurableConcurrencyException>(() => stepA);

        // As the host does: the loser's message is queued again, and both deliveries are acknowledged.
        await a.RequeueAsync(first.Body, TimeSpan.Zero);
        await control.DeleteAsync(first, CancellationToken.None);
        await control.DeleteAsync(second, CancellationToken.None);

        await WaitForAsync(new StorageHarness(rig.Service(Registry(), _clock), rig.Control, rig.Work, TimeSpan.FromSeconds(3)), id, RuntimeStatus.Completed);
        Assert.Equal("11628", (await a.GetAsync(id))!.Output); // (0 + 1) + (1 + 1) + the sum of (i + 1) for 2 <= i < 152
        var history = await a.HistoryAsync(id);
        Assert.Equal(Enumerable.Range(0, 152), history.OfType<TaskCompleted>().Select(c => c.TaskId).Order());
    }

    [Fact]
    public async Task AnInstanceWithOneEventPerHistoryRow_FromAnEarlierVersion_ReplaysAndFinishes()
    {
        // Earlier versions wrote each history event to its own row ("Event"); steps now pack theirs ("Events"). An
        // instance started before the change goes on with both kinds in its partition.
        var rig = StorageRig.Create(azurite);
        var service = rig.Service(Registry(), _clock);
        var harness = new StorageHarness(service, rig.Control, rig.Work, TimeSpan.FromSeconds(3));
        var id = await harness.StartAsync("Chain", 0);
        await harness.RunStepsOnlyAsync();
        var executionId = (await service.GetAsync(id))!.ExecutionId;
        var events = await service.HistoryAsync(id);
        Assert.Equal(2, events.Count);
        var legacy = events.Select((e, i) => new DurableRow($"h-{executionId}-{i:D8}", new Dictionary<string, string> { ["Event"] = System.Text.Json.JsonSerializer.Serialize(e, Loyalty.Durable.Replay.OrchestrationExecutor.Json) })).ToList();
        Assert.True(await rig.Table.TransactAsync(id, legacy, [], null, CancellationToken.None));
        Assert.All(await rig.Table.QueryAsync(id, "h-", CancellationToken.None), r => Assert.Equal(["Event"], r.Values.Keys));

        await WaitForAsync(harness, id, RuntimeStatus.Completed);
        Assert.Equal("3", (await service.GetAsync(id))!.Output);
        Assert.Equal([0, 1, 2], (await service.HistoryAsync(id)).OfType<TaskCompleted>().Select(c => c.TaskId));
    }

    [Fact]
    public async Task AWideStepThatLosesItsCheckpoint_LeavesNoMessageBehind_AndItsRetryRunsEveryActivityOnce()
    {
        // 250 activity calls in one step: its history and outbox are packed into a few rows that commit with the
        // header, so a step that lost its checkpoint leaves nothing behind and sends nothing.
        var rig = StorageRig.Create(azurite);
        var losing = rig.Service(Registry(), _clock, new LoseFirstCheckpoint(rig.Table));
        var id = await losing.StartAsync("WideFanOut", 250);
        var start = await ReceiveOneAsync(rig.Control[losing.PartitionOf(id)], visibilitySeconds: 2);

        await Assert.ThrowsAsync<DurableConcurrencyException>(() => losing.ProcessControlMessageAsync(start.Body));

        Assert.Empty(await rig.Table.QueryAsync(id, "o-", CancellationToken.None));
        Assert.Empty(await rig.Work.ReceiveAsync(1, TimeSpan.FromSeconds(1), CancellationToken.None));
        Assert.Equal(RuntimeStatus.Pending, (await losing.GetAsync(id))!.Status);

        // The message is delivered again (here: after its visibility timeout, to a harness) and the step succeeds.
        var harness = new StorageHarness(rig.Service(Registry(), _clock), rig.Control, rig.Work, TimeSpan.FromSeconds(3));
        await WaitForAsync(harness, id, RuntimeStatus.Completed);
        Assert.Equal("31375", (await harness.GetAsync(id))!.Output); // sum of (i + 1) for i < 250
        var runs = _runs.Where(r => r.Key.StartsWith(id + "/", StringComparison.Ordinal)).ToList();
        Assert.Equal(250, runs.Count);
        Assert.All(runs, r => Assert.Equal(1, r.Value));
        Assert.Empty(await rig.Table.QueryAsync(id, "o-", CancellationToken.None));
    }

    // Runs the dispatchers side by side until `count` instances of `name` have completed or the time is up.
    private static async Task RunTogetherAsync(string name, int count, TimeSpan limit, params StorageHarness[] dispatchers)
    {
        using var stop = new CancellationTokenSource(limit);
        async Task Loop(StorageHarness h)
        {
            while (!stop.IsCancellationRequested && (await h.ListAsync(name, RuntimeStatus.Completed)).Count < count)
            {
                await h.RunUntilIdleAsync();
                await Task.Delay(50);
            }
        }

        await Task.WhenAll(dispatchers.Select(Loop));
    }

    // Takes the start message on `service` and runs its step until it has sent its outbox and is held before deleting it.
    private static async Task<(ReceivedMessage Start, Task<bool> Step)> StartStepHeldBeforeItsDeletesAsync(StorageOrchestrationService service, Interleaving held, Loyalty.Functions.Durable.QueueChannel control)
    {
        held.HoldOutboxDeletes();
        var start = await ReceiveOneAsync(control);
        var step = service.ProcessControlMessageAsync(start.Body);
        await held.DeleteReached.Task.WaitAsync(TimeSpan.FromSeconds(30));
        return (start, step);
    }

    // Two dispatchers on one rig: A through a table wrapper whose holds the test controls, B straight on the table.
    private (StorageRig Rig, Interleaving Held, StorageOrchestrationService A, StorageOrchestrationService B) HeldAndFree()
    {
        var rig = StorageRig.Create(azurite);
        var held = new Interleaving(rig.Table);
        return (rig, held, rig.Service(Registry(), _clock, held), rig.Service(Registry(), _clock));
    }

    private static async Task<ReceivedMessage> ReceiveOneAsync(Loyalty.Functions.Durable.QueueChannel queue, int visibilitySeconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            var received = await queue.ReceiveAsync(1, TimeSpan.FromSeconds(visibilitySeconds), CancellationToken.None);
            if (received.Count == 1)
            {
                return received[0];
            }

            await Task.Delay(50);
        }

        throw new TimeoutException("No message arrived.");
    }

    // The ceiling only matters when an instance is stuck or the machine is very busy (CI runs every test assembly at once).
    private static async Task WaitForAsync(StorageHarness harness, string id, RuntimeStatus status)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            await harness.RunUntilIdleAsync();
            if ((await harness.GetAsync(id))?.Status == status)
            {
                return;
            }

            await Task.Delay(200);
        }

        Assert.Fail($"{id} never reached {status}.");
    }
}
