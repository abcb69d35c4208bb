using System.Net.Mime;
using Azure;
using Azure.Messaging.ServiceBus;
using Azure.Storage.Queues;
using CloudNative.CloudEvents;

namespace Loyalty.Functions.Events;

/// <summary>Where the dispatcher publishes integration events for the chain's other systems (in order, at least once).</summary>
internal interface IEventTransport
{
    /// <summary>Publishes <paramref name="events"/> in their order; an exception means some may not have been.</summary>
    Task PublishAsync(IReadOnlyList<CloudEvent> events, CancellationToken cancellationToken);
}

/// <summary>
/// Azure: a Service Bus topic. Messages go in batches as large as the sender allows, each the structured CloudEvent
/// with <c>MessageId</c> = event id (the topic's duplicate detection drops a re-published one), <c>Subject</c> = event
/// type (subscriptions filter on it), <c>SessionId</c> = member id (a session-enabled subscription gets one member's
/// events in order) and the CloudEvents attributes as application properties (<c>cloudEvents:type</c> and so on).
/// </summary>
internal sealed class ServiceBusEventTransport(ServiceBusSender sender) : IEventTransport
{
    public async Task PublishAsync(IReadOnlyList<CloudEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        var index = 0;
        while (index < events.Count)
        {
            using var batch = await sender.CreateMessageBatchAsync(cancellationToken);
            var start = index;
            while (index < events.Count && batch.TryAddMessage(ToMessage(events[index])))
            {
                index++;
            }

            if (index == start)
            {
                throw new InvalidOperationException($"Event {events[index].Id} is larger than a Service Bus message may be.");
            }

            await sender.SendMessagesAsync(batch, cancellationToken);
        }
    }

    /// <summary>The Service Bus message of an event.</summary>
    public static ServiceBusMessage ToMessage(CloudEvent cloudEvent)
    {
        ArgumentNullException.ThrowIfNull(cloudEvent);
        var body = IntegrationEvents.Encode(cloudEvent, out var contentType);
        var message = new ServiceBusMessage(body)
        {
            MessageId = cloudEvent.Id,
            Subject = cloudEvent.Type,
            SessionId = cloudEvent.Subject,
            ContentType = contentType.ToString(),
        };
        message.ApplicationProperties["cloudEvents:specversion"] = "1.0";
        message.ApplicationProperties["cloudEvents:type"] = cloudEvent.Type;
        message.ApplicationProperties["cloudEvents:source"] = cloudEvent.Source?.ToString();
        message.ApplicationProperties["cloudEvents:id"] = cloudEvent.Id;
        return message;
    }
}

/// <summary>
/// Local runs and tests: a Storage queue (<c>integration-events</c>). It stands where the topic stands in Azure, so the
/// same dispatcher runs in both. Each message is an array of structured events in the CloudEvents JSON batch format
/// (<c>application/cloudevents-batch+json</c>), split where a message would pass the queue's 64 KiB (48 KiB before
/// base64).
/// <para>
/// Dispatches that publish while another message is being sent wait and then go out together in the next message
/// (group commit): each dispatch's events stay together and in their order, and a member has one dispatch at a time
/// (<see cref="EventDispatcher"/>), so a member's events still arrive in order. Under load (a campaign offering to 32
/// members at once) that is one queue message for many dispatches instead of one each, and as many fewer deletes for
/// the consumer. A send that fails for storage reasons fails every dispatch in it, and each is dispatched again from
/// its outbox rows; a message the queue refuses is sent again a dispatch at a time, so only the one at fault fails.
/// </para>
/// </summary>
internal sealed class QueueEventTransport(QueueClient queue) : IEventTransport
{
    private const int MaxMessageBytes = 45_000;

    private readonly Lock _gate = new();
    private readonly List<Publication> _waiting = [];
    private bool _sending;

    /// <summary>Publications waiting for the send under way to end (tests watch it).</summary>
    internal int Waiting
    {
        get
        {
            lock (_gate)
            {
                return _waiting.Count;
            }
        }
    }

    public async Task PublishAsync(IReadOnlyList<CloudEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0)
        {
            return;
        }

        var own = new Publication(events);
        bool lead;
        lock (_gate)
        {
            _waiting.Add(own);
            lead = !_sending;
            _sending = true;
        }

        // The caller that found no send under way sends; the others wait for their answer, or for the turn to send
        // what has gathered (handed to the oldest waiting when a send ends). A waiter does not give up on its token:
        // a turn handed to a caller gone away would stall every dispatch behind it.
        if (!lead && await Task.WhenAny(own.Sent.Task, own.Turn.Task) == own.Sent.Task)
        {
            await own.Sent.Task;
            return;
        }

        List<Publication> batch;
        lock (_gate)
        {
            batch = [.. _waiting];
            _waiting.Clear();
        }

        try
        {
            await SendAllAsync(batch);
        }
        finally
        {
            lock (_gate)
            {
                if (_waiting.Count > 0)
                {
                    _waiting[0].Turn.TrySetResult();
                }
                else
                {
                    _sending = false;
                }
            }
        }

        await own.Sent.Task;
    }

    // Sends the publications in as few messages as the size allows, completing each as its message is stored. A message
    // the queue refuses (4xx: a body it will not take) is sent again a publication at a time, so only the one at fault
    // fails; any other failure (storage unavailable) fails that message's publications, which are dispatched again.
    private async Task SendAllAsync(List<Publication> batch)
    {
        foreach (var group in Groups(batch))
        {
            try
            {
                await SendEventsAsync([.. group.SelectMany(p => p.Events)]);
                group.ForEach(p => p.Sent.TrySetResult());
            }
            catch (RequestFailedException ex) when (group.Count > 1 && ex.Status is >= 400 and < 500)
            {
                foreach (var publication in group)
                {
                    await SendAloneAsync(publication);
                }
            }
            catch (Exception ex)
            {
                group.ForEach(p => p.Sent.TrySetException(ex));
            }
        }
    }

    private async Task SendAloneAsync(Publication publication)
    {
        try
        {
            await SendEventsAsync(publication.Events);
            publication.Sent.TrySetResult();
        }
        catch (Exception ex)
        {
            publication.Sent.TrySetException(ex);
        }
    }

    // Consecutive publications whose events fit in one message together; one too large for a message is a group alone.
    private static IEnumerable<List<Publication>> Groups(List<Publication> batch)
    {
        if (batch.Count == 1)
        {
            // The usual case when the app is not busy: nothing to group, and no size to measure before the send.
            yield return batch;
            yield break;
        }

        var group = new List<Publication>();
        var size = 0;
        foreach (var publication in batch)
        {
            var bytes = IntegrationEvents.Formatter.EncodeBatchModeMessage(publication.Events, out _).Length + 1;
            if (group.Count > 0 && size + bytes > MaxMessageBytes)
            {
                yield return group;
                group = [];
                size = 0;
            }

            group.Add(publication);
            size += bytes;
        }

        if (group.Count > 0)
        {
            yield return group;
        }
    }

    // One message when the events fit; otherwise halves, so a large publication's events go out in order over several.
    private async Task SendEventsAsync(IReadOnlyList<CloudEvent> events)
    {
        var body = IntegrationEvents.Formatter.EncodeBatchModeMessage(events, out _);
        if (body.Length > MaxMessageBytes && events.Count > 1)
        {
            var half = events.Count / 2;
            await SendEventsAsync([.. events.Take(half)]);
            await SendEventsAsync([.. events.Skip(half)]);
            return;
        }

        await queue.SendMessageAsync(BinaryData.FromBytes(body), cancellationToken: CancellationToken.None);
    }

    private sealed class Publication(IReadOnlyList<CloudEvent> events)
    {
        public IReadOnlyList<CloudEvent> Events { get; } = events;

        public TaskCompletionSource Sent { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Turn { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>No transport configured (<c>Loyalty__EventTransport=none</c>): webhooks only.</summary>
internal sealed class NoEventTransport : IEventTransport
{
    public Task PublishAsync(IReadOnlyList<CloudEvent> events, CancellationToken cancellationToken) => Task.CompletedTask;
}
