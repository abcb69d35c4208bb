using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Messaging.ServiceBus;
using Loyalty.Functions.Events;
using Loyalty.Storage.Events;
using Moq;
using Xunit;

namespace Loyalty.Functions.Tests.Events;

/// <summary>
/// The Service Bus transport against a mocked <see cref="ServiceBusSender"/> (no emulator runs here; the SDK's clients
/// and <see cref="ServiceBusModelFactory"/> are made for this): what it sends, in which batches and order.
/// </summary>
public sealed class ServiceBusTransportTests
{
    private static List<CloudNative.CloudEvents.CloudEvent> Events(string subject, int count) =>
    [
        .. Enumerable.Range(1, count).Select(n => IntegrationEvents.ToCloudEvent(new OutboxEvent(
            OutboxRows.EventId(subject, n), n % 2 == 0 ? "points.earned" : "stored_value.topped_up", subject, n,
            DateTimeOffset.Parse("2026-12-01T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture), new JsonObject { ["n"] = n }))),
    ];

    [Fact]
    public async Task Publish_SendsBatchesAsLargeAsTheSenderAllows_InOrder_WithIdsSubjectsAndSessions()
    {
        var batches = new List<List<ServiceBusMessage>>();
        var sender = new Mock<ServiceBusSender>(MockBehavior.Strict);
        sender.Setup(s => s.CreateMessageBatchAsync(It.IsAny<CancellationToken>())).ReturnsAsync(() =>
        {
            var store = new List<ServiceBusMessage>();
            batches.Add(store);
            // This batch holds two messages.
            return ServiceBusModelFactory.ServiceBusMessageBatch(1024, store, tryAddCallback: _ => store.Count < 2);
        });
        var sent = new List<int>();
        sender.Setup(s => s.SendMessagesAsync(It.IsAny<ServiceBusMessageBatch>(), It.IsAny<CancellationToken>()))
            .Callback<ServiceBusMessageBatch, CancellationToken>((b, _) => sent.Add(b.Count))
            .Returns(Task.CompletedTask);

        await new ServiceBusEventTransport(sender.Object).PublishAsync(Events("M1", 5), CancellationToken.None);

        Assert.Equal([2, 2, 1], sent);
        var messages = batches.SelectMany(b => b).ToList();
        Assert.Equal(Enumerable.Range(1, 5).Select(n => $"M1-{n}"), messages.Select(m => m.MessageId));
        Assert.All(messages, m => Assert.Equal("M1", m.SessionId));
        Assert.Equal(["stored_value.topped_up", "points.earned", "stored_value.topped_up", "points.earned", "stored_value.topped_up"], messages.Select(m => m.Subject));
        Assert.All(messages, m => Assert.StartsWith("application/cloudevents+json", m.ContentType, StringComparison.Ordinal));

        // The body is the structured CloudEvent, with the same id, and the data.
        var body = JsonDocument.Parse(messages[3].Body.ToArray()).RootElement;
        Assert.Equal("M1-4", body.GetProperty("id").GetString());
        Assert.Equal("1.0", body.GetProperty("specversion").GetString());
        Assert.Equal("M1", body.GetProperty("subject").GetString());
        Assert.Equal("000000000004", body.GetProperty("sequence").GetString());
        Assert.Equal(4, body.GetProperty("data").GetProperty("n").GetInt32());
        Assert.Equal("points.earned", messages[3].ApplicationProperties["cloudEvents:type"]);
        sender.Verify(s => s.SendMessagesAsync(It.IsAny<ServiceBusMessageBatch>(), It.IsAny<CancellationToken>()), Times.Exactly(3));
    }

    [Fact]
    public async Task Publish_AMessageNoBatchCanHold_Fails_AndSendsNothingOfIt()
    {
        var sender = new Mock<ServiceBusSender>(MockBehavior.Strict);
        sender.Setup(s => s.CreateMessageBatchAsync(It.IsAny<CancellationToken>()))
            .ReturnsAsync(() => ServiceBusModelFactory.ServiceBusMessageBatch(16, new List<ServiceBusMessage>(), tryAddCallback: _ => false));
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => new ServiceBusEventTransport(sender.Object).PublishAsync(Events("M2", 1), CancellationToken.None));
        Assert.Contains("M2-1", error.Message, StringComparison.Ordinal);
        sender.Verify(s => s.SendMessagesAsync(It.IsAny<ServiceBusMessageBatch>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task Publish_ASendThatFails_Throws_SoTheOutboxKeepsItsRows()
    {
        var sender = new Mock<ServiceBusSender>(MockBehavior.Strict);
        sender.Setup(s => s.CreateMessageBatchAsync(It.IsAny<CancellationToken>()))
            .ReturnsAsync(() => ServiceBusModelFactory.ServiceBusMessageBatch(1024, new List<ServiceBusMessage>(), tryAddCallback: _ => true));
        sender.Setup(s => s.SendMessagesAsync(It.IsAny<ServiceBusMessageBatch>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new ServiceBusException("namespace unavailable", ServiceBusFailureReason.ServiceBusy));
        await Assert.ThrowsAsync<ServiceBusException>(() => new ServiceBusEventTransport(sender.Object).PublishAsync(Events("M3", 3), CancellationToken.None));
    }
}
