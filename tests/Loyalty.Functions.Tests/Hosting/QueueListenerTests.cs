using Azure.Storage.Queues;
using Azure.Data.Tables;
using System.Collections.Concurrent;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Hosting.Local;
using Loyalty.Storage.Schema;
using Loyalty.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Loyalty.Functions.Tests.Hosting;

public sealed class QueueListenerTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly HostJson Host = HostJson.Defaults with
    {
        BatchSize = 4,
        NewBatchThreshold = 2,
        VisibilityTimeout = TimeSpan.Zero,
        MaxDequeueCount = 3,
        MaxPollingInterval = TimeSpan.FromMilliseconds(200),
    };

    [Fact]
    public async Task Listener_Success_DeletesEveryMessageAcrossBatches()
    {
        var (store, queue) = await NewQueueAsync();
        var handler = new RecordingFunction(_ => false);
        for (var i = 0; i < 10; i++)
        {
            await store.Queue(queue).SendMessageAsync($"m{i}");
        }

        using var listener = Listener(store, queue, handler);
        await listener.StartAsync(CancellationToken.None);
        await Support.Api.EventuallyAsync(() => Task.FromResult(handler.Bodies.Distinct().Count() == 10), "all ten messages");
        await listener.StopAsync(CancellationToken.None);

        Assert.Empty(await store.Queue(queue).PeekAsync());
        Assert.Empty(await store.Queue(StorageNames.Poison(queue)).PeekAsync());
        Assert.True(handler.MaxConcurrent <= Host.BatchSize + Host.NewBatchThreshold);
    }

    [Fact]
    public async Task Listener_ASlowMessage_DoesNotHoldUpTheRestOfTheQueue()
    {
        // Like the host, the listener fetches more as soon as no more than newBatchThreshold messages are running.
        // One message is held until everything sent after it has been handled: a listener that waited for its whole
        // batch would never get there.
        var (store, queue) = await NewQueueAsync();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new RecordingFunction(_ => false, body => body == "slow" ? gate.Task : Task.CompletedTask);
        await store.Queue(queue).SendMessageAsync("slow");
        for (var i = 0; i < 12; i++)
        {
            await store.Queue(queue).SendMessageAsync($"m{i}");
        }

        using var listener = Listener(store, queue, handler);
        await listener.StartAsync(CancellationToken.None);
        await Support.Api.EventuallyAsync(() => Task.FromResult(handler.Bodies.Distinct().Count(b => b.StartsWith('m')) == 12), "the twelve quick messages");
        var slowDoneEarly = handler.Bodies.Contains("slow");
        gate.SetResult();
        await Support.Api.EventuallyAsync(() => Task.FromResult(handler.Bodies.Contains("slow")), "the slow message");
        await listener.StopAsync(CancellationToken.None);

        Assert.False(slowDoneEarly);
        Assert.Empty(await store.Queue(queue).PeekAsync());
    }

    [Fact]
    public async Task Listener_AlwaysFailing_RetriesMaxDequeueCountTimesThenPoisons()
    {
        var (store, queue) = await NewQueueAsync();
        var handler = new RecordingFunction(body => body == "bad");
        await store.Queue(queue).SendMessageAsync("bad");

        using var listener = Listener(store, queue, handler);
        await listener.StartAsync(CancellationToken.None);
        await Support.Api.EventuallyAsync(async () => (await store.Queue(StorageNames.Poison(queue)).PeekAsync()).Count == 1, "the poison message");
        await listener.StopAsync(CancellationToken.None);

        var poisoned = Assert.Single(await store.Queue(StorageNames.Poison(queue)).PeekAsync());
        Assert.Equal("bad", poisoned.Body.ToString());
        Assert.Equal([1L, 2L, 3L], handler.DequeueCounts.Order());
        Assert.Empty(await store.Queue(queue).PeekAsync());
    }

    [Fact]
    public async Task Listener_FailsOnceThenSucceeds_IsNotPoisoned()
    {
        var (store, queue) = await NewQueueAsync();
        var failures = 0;
        var handler = new RecordingFunction(_ => Interlocked.Increment(ref failures) == 1);
        await store.Queue(queue).SendMessageAsync("flaky");

        using var listener = Listener(store, queue, handler);
        await listener.StartAsync(CancellationToken.None);
        await Support.Api.EventuallyAsync(() => Task.FromResult(handler.DequeueCounts.Contains(2)), "the retry");
        await listener.StopAsync(CancellationToken.None);

        Assert.Empty(await store.Queue(queue).PeekAsync());
        Assert.Empty(await store.Queue(StorageNames.Poison(queue)).PeekAsync());
    }

    private async Task<(TableStore Store, string Queue)> NewQueueAsync()
    {
        var names = new StorageNames(null, "l" + Guid.NewGuid().ToString("N")[..8] + "-");
        var store = new TableStore(names, azurite.Tables.GetTableClient, azurite.Queues.GetQueueClient);
        var queue = names.QueuePrefix + "work";
        await store.EnsureCreatedAsync([queue]);
        return (store, queue);
    }

    private static QueueListener Listener(TableStore store, string queue, RecordingFunction handler)
    {
        var services = new ServiceCollection().AddSingleton(handler).BuildServiceProvider();
        var trigger = new QueueTrigger(queue, "LoyaltyStorage");
        var function = new FunctionDefinition("Test", trigger, typeof(RecordingFunction));
        return new QueueListener(function, trigger, Host, store, services.GetRequiredService<IServiceScopeFactory>(), NullLogger<QueueListener>.Instance);
    }

    private sealed class RecordingFunction(Func<string, bool> shouldFail, Func<string, Task>? holdUntil = null) : IQueueFunction
    {
        private int _running;

        public ConcurrentBag<string> Bodies { get; } = [];

        public ConcurrentBag<long> DequeueCounts { get; } = [];

        public int MaxConcurrent { get; private set; }

        public async Task RunAsync(QueueInvocation invocation, CancellationToken cancellationToken)
        {
            var running = Interlocked.Increment(ref _running);
            MaxConcurrent = Math.Max(MaxConcurrent, running);
            try
            {
                await Task.Delay(20, cancellationToken);
                if (holdUntil is not null)
                {
                    await holdUntil(invocation.Body);
                }

                DequeueCounts.Add(invocation.DequeueCount);
                if (shouldFail(invocation.Body))
                {
                    throw new InvalidOperationException("injected failure");
                }

                Bodies.Add(invocation.Body);
            }
            finally
            {
                Interlocked.Decrement(ref _running);
            }
        }
    }
}
