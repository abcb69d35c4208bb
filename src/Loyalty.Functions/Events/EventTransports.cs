using System.Net.Mime;
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
/// same dispatcher runs in both. Each message is one dispatch's events in order, in the CloudEvents JSON batch format
/// (<c>application/cloudevents-batch+json</c>: an array of structured events), split where a message would pass the
/// queue's 64 KiB (48 KiB before base64).
/// </summary>
internal sealed class QueueEventTransport(QueueClient queue) : IEventTransport
{
    private const int MaxMessageBytes = 45_000;

    public async Task PublishAsync(IReadOnlyList<CloudEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0)
        {
            return;
        }

        var body = IntegrationEvents.Formatter.EncodeBatchModeMessage(events, out _);
        if (body.Length > MaxMessageBytes && events.Count > 1)
        {
            var half = events.Count / 2;
            await PublishAsync([.. events.Take(half)], cancellationToken);
            await PublishAsync([.. events.Skip(half)], cancellationToken);
            return;
        }

        await queue.SendMessageAsync(BinaryData.FromBytes(body), cancellationToken: cancellationToken);
    }
}

/// <summary>No transport configured (<c>Loyalty__EventTransport=none</c>): webhooks only.</summary>
internal sealed class NoEventTransport : IEventTransport
{
    public Task PublishAsync(IReadOnlyList<CloudEvent> events, CancellationToken cancellationToken) => Task.CompletedTask;
}
