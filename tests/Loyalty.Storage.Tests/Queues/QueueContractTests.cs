using System.Text;
using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Loyalty.Storage.Azure;
using Loyalty.Storage.Queues;
using Loyalty.Testing;
using Xunit;

namespace Loyalty.Storage.Tests.Queues;

/// <summary>
/// What the app relies on from Azure.Storage.Queues against Azurite: base64 message text as the Functions host reads
/// it, delays, visibility timeouts and redelivery counts, receipts, and queue deletion.
/// </summary>
public sealed class QueueContractTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task SendReceiveDelete_RoundTripsUnicodeJson()
    {
        var queue = await azurite.NewQueueAsync();
        const string body = """{"memberId":"M1","text":"欢迎 <&>"}""";

        await queue.SendMessageAsync(body);
        var received = Assert.Single(await queue.ReceiveAsync(32, TimeSpan.FromSeconds(30)));
        await queue.DeleteMessageIfExistsAsync(received.MessageId, received.PopReceipt);
        await queue.DeleteMessageIfExistsAsync(received.MessageId, received.PopReceipt);

        Assert.Equal(body, received.Body.ToString());
        Assert.Equal(1, received.DequeueCount);
        Assert.Empty(await queue.PeekAsync());
    }

    [Fact]
    public async Task Messages_AreBase64OnTheWire_AsTheFunctionsHostReadsAndWritesThem()
    {
        var queue = await azurite.NewQueueAsync();
        var raw = new QueueClient(azurite.Server.ConnectionString, queue.Name, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None });
        const string ours = """{"from":"the app","text":"会员"}""";
        const string theirs = """{"from":"the host","text":"积分"}""";

        await queue.SendMessageAsync(ours);
        var onTheWire = Assert.Single((await raw.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(30))).Value);
        await raw.DeleteMessageAsync(onTheWire.MessageId, onTheWire.PopReceipt);
        await raw.SendMessageAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes(theirs)));
        var fromHost = Assert.Single(await queue.ReceiveAsync(1, TimeSpan.FromSeconds(30)));

        Assert.Equal(ours, Encoding.UTF8.GetString(Convert.FromBase64String(onTheWire.Body.ToString())));
        Assert.Equal(theirs, fromHost.Body.ToString());
    }

    [Fact]
    public async Task SendMessage_WithDelay_StaysHiddenUntilDue()
    {
        var queue = await azurite.NewQueueAsync();

        var sentAt = DateTimeOffset.UtcNow;
        await queue.SendMessageAsync("later", visibilityTimeout: TimeSpan.FromSeconds(2));
        var early = await queue.ReceiveAsync(32, TimeSpan.FromSeconds(30));
        var (due, receivedAt) = await ReceiveWhenVisibleAsync(queue);

        Assert.Empty(early);
        Assert.Equal("later", due.Body.ToString());
        // The service keeps whole seconds; allow for that rounding but not for an early delivery.
        Assert.True(receivedAt - sentAt >= TimeSpan.FromSeconds(1), $"delivered after {(receivedAt - sentAt).TotalMilliseconds} ms");
    }

    [Fact]
    public async Task ReceiveMessages_HidesForTheVisibilityTimeout_ThenRedeliversWithAHigherCount()
    {
        var queue = await azurite.NewQueueAsync();
        await queue.SendMessageAsync("m");

        var first = Assert.Single(await queue.ReceiveAsync(1, TimeSpan.FromSeconds(1)));
        var whileHidden = await queue.ReceiveAsync(1, TimeSpan.FromSeconds(1));
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

        var batch = await queue.ReceiveAsync(3, TimeSpan.FromSeconds(30));
        var rest = await queue.ReceiveAsync(32, TimeSpan.FromSeconds(30));

        Assert.Equal(3, batch.Count);
        Assert.Equal(2, rest.Count);
        Assert.Equal(5, batch.Concat(rest).Select(m => m.Body.ToString()).Distinct().Count());
    }

    [Fact]
    public async Task UpdateVisibility_Extends_KeepsTheText_AndTheNewReceiptDeletes()
    {
        var queue = await azurite.NewQueueAsync();
        await queue.SendMessageAsync("m");
        var message = Assert.Single(await queue.ReceiveAsync(1, TimeSpan.FromSeconds(1)));

        var receipt = await queue.UpdateVisibilityAsync(message.MessageId, message.PopReceipt, TimeSpan.FromSeconds(30));
        await Task.Delay(1500);
        var afterOriginalTimeout = await queue.ReceiveAsync(1, TimeSpan.FromSeconds(30));
        var peekedBeforeDelete = await queue.PeekAsync();
        await queue.UpdateVisibilityAsync(message.MessageId, receipt, TimeSpan.Zero);
        var again = Assert.Single(await queue.ReceiveAsync(1, TimeSpan.FromSeconds(30)));
        await queue.DeleteMessageAsync(again.MessageId, again.PopReceipt);

        Assert.Empty(afterOriginalTimeout);
        Assert.Empty(peekedBeforeDelete);
        Assert.Equal("m", again.Body.ToString());
        Assert.Empty(await queue.PeekAsync());
    }

    [Fact]
    public async Task UpdateVisibility_ToZero_MakesItVisibleAtOnce()
    {
        var queue = await azurite.NewQueueAsync();
        await queue.SendMessageAsync("m");
        var message = Assert.Single(await queue.ReceiveAsync(1, TimeSpan.FromMinutes(5)));

        await queue.UpdateVisibilityAsync(message.MessageId, message.PopReceipt, TimeSpan.Zero);

        Assert.Single(await queue.ReceiveAsync(1, TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task DeleteMessage_WithAnOldReceipt_FailsButIfExistsIgnoresOnlyAMissingMessage()
    {
        var queue = await azurite.NewQueueAsync();
        await queue.SendMessageAsync("m");
        var message = Assert.Single(await queue.ReceiveAsync(1, TimeSpan.FromMinutes(5)));
        var newReceipt = await queue.UpdateVisibilityAsync(message.MessageId, message.PopReceipt, TimeSpan.FromMinutes(5));

        // Another receiver holds it now: that is not "already gone", and the message must stay.
        var ex = await Assert.ThrowsAnyAsync<RequestFailedException>(() => queue.DeleteMessageIfExistsAsync(message.MessageId, message.PopReceipt));
        await queue.DeleteMessageIfExistsAsync(message.MessageId, newReceipt);
        await queue.DeleteMessageIfExistsAsync(message.MessageId, newReceipt);

        Assert.Equal(400, ex.Status);
    }

    [Fact]
    public async Task DeleteQueue_RemovesItWithItsMessages_AndASecondDeleteIsQuiet()
    {
        var queue = await azurite.NewQueueAsync();
        await queue.SendMessageAsync("left over");

        await azurite.Queues.DeleteQueueAsync(queue.Name);
        await queue.DeleteIfExistsAsync();

        var ex = await Assert.ThrowsAnyAsync<RequestFailedException>(() => queue.PeekMessagesAsync(1));
        Assert.Equal(404, ex.Status);
    }

    [Fact]
    public void Options_EncodeBase64_AndRetryQuickly()
    {
        var options = StorageClients.QueueOptions();

        Assert.Equal(QueueMessageEncoding.Base64, options.MessageEncoding);
        Assert.Equal(3, options.Retry.MaxRetries);
        Assert.Equal(TimeSpan.FromSeconds(30), options.Retry.NetworkTimeout);
    }

    private static async Task<(QueueMessage Message, DateTimeOffset At)> ReceiveWhenVisibleAsync(QueueClient queue)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(15);
        while (DateTimeOffset.UtcNow < deadline)
        {
            var got = await queue.ReceiveAsync(1, TimeSpan.FromSeconds(30));
            if (got.Count == 1)
            {
                return (got[0], DateTimeOffset.UtcNow);
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("The message never became visible.");
    }
}
