using Azure.Storage.Queues;

namespace Loyalty.Bench;

/// <summary>
/// A downstream system (the ERP, the CRM) reading the integration events as they arrive. Locally the app publishes
/// them to a Storage queue that nothing in the app reads; left unread, that queue grows by a message a member, and
/// Azurite's queue store filters every message of the account on each receive and delete of any queue (its messages
/// collection is indexed by account first), so the whole app would slow as the backlog grows. In Azure the events go
/// to Service Bus, outside the storage account.
/// </summary>
internal sealed class EventDrain : BackgroundLoop
{
    private long _messages;

    public EventDrain(QueueClient queue)
    {
        ArgumentNullException.ThrowIfNull(queue);
        Start(cancellationToken => RunAsync(queue, cancellationToken));
    }

    /// <summary>Messages (each a CloudEvents batch of one dispatch) read and deleted so far.</summary>
    public long Messages => Interlocked.Read(ref _messages);

    private async Task RunAsync(QueueClient queue, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var batch = (await queue.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(1), cancellationToken)).Value;
                if (batch.Length == 0)
                {
                    await Task.Delay(500, cancellationToken);
                    continue;
                }

                await Parallel.ForEachAsync(batch, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (message, ct) =>
                {
                    await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, ct);
                    Interlocked.Increment(ref _messages);
                });
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Azure.RequestFailedException)
            {
                await Task.Delay(1000, CancellationToken.None);
            }
        }
    }
}
