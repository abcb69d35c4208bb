using Azure.Storage.Queues.Models;
using Azure.Storage.Queues;
using Loyalty.Storage.Queues;
using Loyalty.Storage.Schema;

namespace Loyalty.Functions.Hosting.Local;

/// <summary>
/// Local mode's stand-in for the host's queue trigger: receives up to <c>batchSize</c> messages and runs them
/// concurrently, and like the host fetches the next batch as soon as no more than <c>newBatchThreshold</c> are still
/// running (so one slow message never holds up the rest). Each message is deleted on success; on failure it is made
/// visible again after <c>visibilityTimeout</c>, and once it has been dequeued <c>maxDequeueCount</c> times it is
/// moved, unchanged, to <c>&lt;queue&gt;-poison</c>. Polling backs off exponentially to <c>maxPollingInterval</c>
/// while the queue is empty.
/// </summary>
internal sealed class QueueListener(
    FunctionDefinition function,
    QueueTrigger trigger,
    HostJson host,
    TableStore store,
    IServiceScopeFactory scopes,
    ILogger<QueueListener> logger) : BackgroundService
{
    /// <summary>How long a received message stays hidden while it is processed.</summary>
    internal static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);

    private static readonly TimeSpan MinPollingInterval = TimeSpan.FromMilliseconds(100);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var queue = store.Queue(trigger.QueueName);
        var poison = store.Queue(StorageNames.Poison(trigger.QueueName));
        var delay = MinPollingInterval;
        var running = new List<Task>();
        logger.LogInformation("Listening to queue {Queue} for {Function}", trigger.QueueName, function.Name);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                running.RemoveAll(t => t.IsCompleted);
                if (running.Count > host.NewBatchThreshold)
                {
                    await Task.WhenAny(running);
                    continue;
                }

                QueueMessage[] batch;
                try
                {
                    batch = (await queue.ReceiveMessagesAsync(host.BatchSize, Lease, stoppingToken)).Value;
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex) when (ex is Azure.RequestFailedException or HttpRequestException or IOException)
                {
                    logger.LogWarning(ex, "Receiving from {Queue} failed; retrying", trigger.QueueName);
                    batch = [];
                }

                if (batch.Length > 0)
                {
                    delay = MinPollingInterval;
                    running.AddRange(batch.Select(m => ProcessAsync(queue, poison, m, stoppingToken)));
                    continue;
                }

                try
                {
                    await Task.Delay(delay, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, Math.Max(host.MaxPollingInterval.Ticks, MinPollingInterval.Ticks)));
            }
        }
        finally
        {
            // Messages still running finish (or see the cancellation) before the listener stops.
            await Task.WhenAll(running);
        }
    }

    internal async Task ProcessAsync(QueueClient queue, QueueClient poison, QueueMessage message, CancellationToken cancellationToken)
    {
        try
        {
            if (message.DequeueCount > host.MaxDequeueCount)
            {
                // It crashed the process too often to ever complete a normal failure path.
                await MoveToPoisonAsync(queue, poison, message, cancellationToken);
                return;
            }

            await using (var scope = scopes.CreateAsyncScope())
            {
                var handler = (IQueueFunction)scope.ServiceProvider.GetRequiredService((Type)function.Handler);
                await handler.RunAsync(new QueueInvocation(message.Body.ToString(), message.MessageId, message.DequeueCount, message.InsertedOn), cancellationToken);
            }

            await queue.DeleteMessageIfExistsAsync(message.MessageId, message.PopReceipt, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down: the message becomes visible again when its lease ends.
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "{Function} failed on message {MessageId} (delivery {DequeueCount})", function.Name, message.MessageId, message.DequeueCount);
            await FailAsync(queue, poison, message, cancellationToken);
        }
    }

    private async Task FailAsync(QueueClient queue, QueueClient poison, QueueMessage message, CancellationToken cancellationToken)
    {
        try
        {
            if (message.DequeueCount >= host.MaxDequeueCount)
            {
                await MoveToPoisonAsync(queue, poison, message, cancellationToken);
            }
            else
            {
                await queue.UpdateVisibilityAsync(message.MessageId, message.PopReceipt, host.VisibilityTimeout, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is Azure.RequestFailedException or HttpRequestException or IOException or OperationCanceledException)
        {
            // The lease ends by itself and the message is retried; nothing is lost.
            logger.LogWarning(ex, "Could not release message {MessageId} of {Queue}", message.MessageId, trigger.QueueName);
        }
    }

    private async Task MoveToPoisonAsync(QueueClient queue, QueueClient poison, QueueMessage message, CancellationToken cancellationToken)
    {
        await poison.SendMessageAsync(message.Body, cancellationToken: cancellationToken);
        await queue.DeleteMessageIfExistsAsync(message.MessageId, message.PopReceipt, cancellationToken);
        logger.LogError("Message {MessageId} moved to {PoisonQueue} after {DequeueCount} deliveries", message.MessageId, poison.Name, message.DequeueCount);
    }
}
