using System.Text.Json;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage.Queues;
using CloudNative.CloudEvents;
using Loyalty.Functions.Events;
using Loyalty.Functions.Tests.Support;
using Loyalty.Testing;
using Xunit;

namespace Loyalty.Functions.Tests.Events;

/// <summary>
/// The local transport of integration events (a Storage queue on Azurite): dispatches that publish while a message is
/// being sent go out together in the next one, each dispatch's events together and in order; a send that storage
/// fails fails every dispatch in it, and a message the queue refuses is sent again a dispatch at a time.
/// </summary>
public sealed class QueueEventTransportTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task PublicationsWaitingForASend_GoOutTogether_EachWholeAndInOrder()
    {
        var (queue, sends) = await QueueAsync();
        var transport = new QueueEventTransport(queue);

        // The first dispatch's send is held; 40 more dispatches of three events each arrive meanwhile.
        var others = await BehindAHeldSendAsync(transport, sends, "M", 40, 3);
        await Task.WhenAll(others.Select(o => o.Task));

        // Two messages: the held one, then the 40 together.
        var messages = await ReadAllAsync(queue);
        Assert.Equal(2, sends.Count);
        Assert.Equal(2, messages.Count);
        Assert.Equal(["M00-1", "M00-2", "M00-3"], messages[0]);
        Assert.Equal(120, messages[1].Count);
        foreach (var member in Enumerable.Range(1, 40).Select(m => $"M{m:D2}"))
        {
            var at = messages[1].IndexOf(member + "-1");
            Assert.Equal([member + "-1", member + "-2", member + "-3"], messages[1].Skip(at).Take(3));
        }
    }

    [Fact]
    public async Task AFailedSend_FailsEveryPublicationInIt_AndTheNextOnesStillGoOut()
    {
        var (queue, sends) = await QueueAsync(failSend: 2);
        var transport = new QueueEventTransport(queue);

        var others = await BehindAHeldSendAsync(transport, sends, "F", 5, 2);

        // The five shared the second send, which failed: each of them sees the failure (and is dispatched again).
        foreach (var other in others)
        {
            await Assert.ThrowsAnyAsync<Exception>(() => other.Task);
        }

        // The transport is not stuck: a later dispatch goes out on its own.
        await transport.PublishAsync(Events("F06", 1), CancellationToken.None);
        var messages = await ReadAllAsync(queue);
        Assert.Equal([["F00-1", "F00-2"], ["F06-1"]], messages);
    }

    [Fact]
    public async Task AMessageTheQueueRefuses_IsSentAgainOneDispatchAtATime_SoOnlyTheOneAtFaultFails()
    {
        // The second send (the three waiting dispatches together) is refused, and so is the fourth: the second of them,
        // sent alone. The first and third of them go out on their own.
        var (queue, sends) = await QueueAsync(refuse: [2, 4]);
        var transport = new QueueEventTransport(queue);

        var others = await BehindAHeldSendAsync(transport, sends, "R", 3, 1);
        foreach (var other in others)
        {
            await Task.WhenAny(other.Task);
        }

        var failed = others.Where(o => o.Task.IsFaulted).ToList();
        var refused = Assert.Single(failed);
        Assert.IsType<Azure.RequestFailedException>(refused.Task.Exception!.InnerException);
        Assert.Equal(5, sends.Count);
        var messages = await ReadAllAsync(queue);
        Assert.Equal(3, messages.Count);
        Assert.Equal(["R00-1"], messages[0]);
        Assert.Equal(others.Where(o => !o.Task.IsFaulted).Select(o => o.Subject + "-1").Order(), messages.Skip(1).SelectMany(m => m).Order());
    }

    // Publishes {prefix}00 (one event) and holds its send until `count` more dispatches ({prefix}01, ... of `events`
    // events each) wait behind it, then lets it go; returns the waiting ones once the held one is sent.
    private static async Task<List<(string Subject, Task Task)>> BehindAHeldSendAsync(QueueEventTransport transport, SendGate sends, string prefix, int count, int events)
    {
        var first = transport.PublishAsync(Events(prefix + "00", events), CancellationToken.None);
        await sends.FirstArrived.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var others = Enumerable.Range(1, count)
            .Select(m => $"{prefix}{m:D2}")
            .Select(subject => (subject, Task.Run(() => transport.PublishAsync(Events(subject, events), CancellationToken.None))))
            .ToList();
        await Api.EventuallyAsync(() => Task.FromResult(transport.Waiting == count), $"the {count} dispatches waiting");
        sends.Release.TrySetResult();
        await first;
        return others;
    }

    private static List<CloudEvent> Events(string subject, int count) =>
        [.. Enumerable.Range(1, count).Select(n => new CloudEvent
        {
            Id = $"{subject}-{n}",
            Type = "points.earned",
            Source = new Uri("urn:loyalty:test"),
            Subject = subject,
            DataContentType = "application/json",
            Data = new { points = n },
        })];

    private async Task<(QueueClient Queue, SendGate Sends)> QueueAsync(int failSend = 0, int[]? refuse = null)
    {
        var name = AzuriteServer.UniqueName("events");
        var sends = new SendGate(failSend, refuse ?? []);
        var options = Storage.Azure.StorageClients.QueueOptions(sends);
        options.Retry.MaxRetries = 0;
        var queue = new QueueClient(azurite.Server.ConnectionString, name, options);
        await queue.CreateIfNotExistsAsync();
        return (queue, sends);
    }

    // Each message's event ids, in the order the messages were sent.
    private async Task<List<List<string>>> ReadAllAsync(QueueClient queue)
    {
        var reader = azurite.Queues.GetQueueClient(queue.Name);
        var messages = new List<List<string>>();
        for (var batch = (await reader.ReceiveMessagesAsync(32)).Value; batch.Length > 0; batch = (await reader.ReceiveMessagesAsync(32)).Value)
        {
            messages.AddRange(batch.Select(m => JsonDocument.Parse(m.Body.ToArray()).RootElement.EnumerateArray().Select(e => e.GetProperty("id").GetString()!).ToList()));
        }

        await reader.DeleteAsync();
        return messages;
    }

    /// <summary>
    /// Holds the first message sent until released; fails the <c>failSend</c>-th (1-based) without sending it, as storage
    /// out of reach would, and answers the <c>refuse</c>-th ones with a 400, as the queue does a body it will not take.
    /// </summary>
    private sealed class SendGate(int failSend, int[] refuse) : HttpPipelinePolicy
    {
        private int _count;

        public TaskCompletionSource FirstArrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Count => Volatile.Read(ref _count);

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            throw new NotSupportedException();

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            ArgumentNullException.ThrowIfNull(message);
            if (message.Request.Method == RequestMethod.Post && message.Request.Uri.Path.EndsWith("/messages", StringComparison.Ordinal))
            {
                var count = Interlocked.Increment(ref _count);
                if (count == 1)
                {
                    FirstArrived.TrySetResult();
                    await Release.Task;
                }

                if (count == failSend)
                {
                    throw new IOException("Injected: the send did not reach storage.");
                }

                if (refuse.Contains(count))
                {
                    throw new Azure.RequestFailedException(400, "Injected: the queue refuses this message.");
                }
            }

            await ProcessNextAsync(message, pipeline);
        }
    }
}
