using Azure;
using Loyalty.Testing;
using Xunit;

namespace Loyalty.Storage.Tests.Queues;

public sealed class QueueClientTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task SendReceiveDelete_RoundTripsUnicodeJson()
    {
        var queue = await azurite.NewQueueAsync();
        const string body = """{"memberId":"M1","text":"欢迎 <&>"}""";

        await queue.SendMessageAsync(body);
        var received = Assert.Single(await queue.ReceiveMessagesAsync(32, TimeSpan.FromSeconds(30)));
        await queue.DeleteMessageAsync(received.MessageId, received.PopReceipt);

        Assert.Equal(body, received.Body);
        Assert.Equal(1, received.DequeueCount);
        Assert.Empty(await queue.PeekMessagesAsync(32));
    }

    [Fact]
    public async Task SendMessage_WithDelay_StaysHiddenUntilDue()
    {
        var queue = await azurite.NewQueueAsync();

        var sentAt = DateTimeOffset.UtcNow;
        await queue.SendMessageAsync("later", visibilityDelay: TimeSpan.FromSeconds(2));
        var early = await queue.ReceiveMessagesAsync(32, TimeSpan.FromSeconds(30));
        var (due, receivedAt) = await ReceiveWhenVisibleAsync(queue);

        Assert.Empty(early);
        Assert.Equal("later", due.Body);
        // The service keeps whole seconds; allow for that rounding but not for an early delivery.
        Assert.True(receivedAt - sentAt >= TimeSpan.FromSeconds(1), $"delivered after {(receivedAt - sentAt).TotalMilliseconds} ms");
    }

    [Fact]
    public async Task ReceiveMessages_HidesForVisibilityTimeout_ThenRedeliversWithHigherCount()
    {
        var queue = await azurite.NewQueueAsync();
        await queue.SendMessageAsync("m");

        var first = Assert.Single(await queue.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(1)));
        var whileHidden = await queue.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(1));
        var (second, _) = await ReceiveWhenVisibleAsync(queue);

        Assert.Empty(whileHidden);
        Assert.Equal(first.MessageId, second.MessageId);
        Assert.Equal(2, second.DequeueCount);
    }

    [Fact]
    public async Task ReceiveMessages_GetsABatch()
    {
        var queue = await azurite.NewQueueAsync();
        for (var i = 0; i < 5; i++)
        {
            await queue.SendMessageAsync($"m{i}");
        }

        var batch = await queue.ReceiveMessagesAsync(3, TimeSpan.FromSeconds(30));
        var rest = await queue.ReceiveMessagesAsync(32, TimeSpan.FromSeconds(30));

        Assert.Equal(3, batch.Count);
        Assert.Equal(2, rest.Count);
        Assert.Equal(5, batch.Concat(rest).Select(m => m.Body).Distinct().Count());
    }

    [Fact]
    public async Task UpdateVisibility_Extends_AndNewReceiptDeletes()
    {
        var queue = await azurite.NewQueueAsync();
        await queue.SendMessageAsync("m");
        var message = Assert.Single(await queue.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(1)));

        var receipt = await queue.UpdateVisibilityAsync(message.MessageId, message.PopReceipt, TimeSpan.FromSeconds(30));
        await Task.Delay(1500);
        var afterOriginalTimeout = await queue.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(30));
        await queue.DeleteMessageAsync(message.MessageId, receipt);

        Assert.Empty(afterOriginalTimeout);
        Assert.Empty(await queue.PeekMessagesAsync(32));
    }

    [Fact]
    public async Task UpdateVisibility_ToZero_MakesItVisibleAtOnce()
    {
        var queue = await azurite.NewQueueAsync();
        await queue.SendMessageAsync("m");
        var message = Assert.Single(await queue.ReceiveMessagesAsync(1, TimeSpan.FromMinutes(5)));

        await queue.UpdateVisibilityAsync(message.MessageId, message.PopReceipt, TimeSpan.Zero);

        Assert.Single(await queue.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task SendMessage_DelayOfSevenDays_IsRejectedBeforeTheWire()
    {
        var queue = await azurite.NewQueueAsync();
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queue.SendMessageAsync("m", TimeSpan.FromDays(7)));
    }

    private static async Task<(Loyalty.Storage.Queues.QueueMessage Message, DateTimeOffset At)> ReceiveWhenVisibleAsync(
        Loyalty.Storage.Queues.IQueueClient queue)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(15);
        while (DateTimeOffset.UtcNow < deadline)
        {
            var got = await queue.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(30));
            if (got.Count == 1)
            {
                return (got[0], DateTimeOffset.UtcNow);
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("The message never became visible.");
    }

    [Fact]
    public async Task DeleteIfExists_RemovesTheQueueWithItsMessages_AndASecondDeleteIsQuiet()
    {
        var queue = await azurite.NewQueueAsync();
        await queue.SendMessageAsync("left over");

        await queue.DeleteIfExistsAsync();
        await queue.DeleteIfExistsAsync();

        var ex = await Assert.ThrowsAnyAsync<RequestFailedException>(() => queue.PeekMessagesAsync(1));
        Assert.Equal(404, ex.Status);
    }
}
