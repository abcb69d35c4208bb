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

/// <summary>Fails the first outbox read after a checkpoint: the dispatcher dies between commit and dispatch.</summary>
internal sealed class CrashAfterCheckpoint(IInstanceTable inner) : IInstanceTable
{
    private int _armed;

    public void Arm() => _armed = 1;

    public Task<DurableRow?> GetAsync(string instanceId, string rowKey, CancellationToken cancellationToken) => inner.GetAsync(instanceId, rowKey, cancellationToken);

    public Task<IReadOnlyList<DurableRow>> QueryAsync(string instanceId, string rowKeyPrefix, CancellationToken cancellationToken) =>
        rowKeyPrefix == "o-" && Interlocked.CompareExchange(ref _armed, 0, 2) == 2
            ? throw new InjectedCrashException("dispatcher died after its checkpoint")
            : inner.QueryAsync(instanceId, rowKeyPrefix, cancellationToken);

    public Task<IReadOnlyList<(string InstanceId, DurableRow Row)>> QueryAllAsync(string rowKey, CancellationToken cancellationToken) => inner.QueryAllAsync(rowKey, cancellationToken);

    public async Task<bool> TransactAsync(string instanceId, IReadOnlyList<DurableRow> upserts, IReadOnlyList<string> deletes, DurableRow? header, CancellationToken cancellationToken)
    {
        var done = await inner.TransactAsync(instanceId, upserts, deletes, header, cancellationToken);
        if (done && header is not null)
        {
            Interlocked.CompareExchange(ref _armed, 2, 1);
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

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        async Task Loop(StorageHarness h)
        {
            while (!stop.IsCancellationRequested && (await h.ListAsync("Chain", RuntimeStatus.Completed)).Count < ids.Count)
            {
                await h.RunUntilIdleAsync();
                await Task.Delay(50);
            }
        }

        await Task.WhenAll(Loop(a), Loop(b));

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

    private static async Task WaitForAsync(StorageHarness harness, string id, RuntimeStatus status)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
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
