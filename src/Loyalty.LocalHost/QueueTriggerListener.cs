using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.Azure.WebJobs.Script.Grpc.Messages;

namespace Loyalty.LocalHost;

/// <summary>
/// A queue trigger, run as the Functions host runs it with host.json's queue settings: receive up to
/// <c>batchSize</c>, run them concurrently, fetch more once no more than <c>newBatchThreshold</c> are running, back
/// off up to <c>maxPollingInterval</c> while empty. A success deletes the message and writes the function's queue
/// outputs; a failure makes it visible again after <c>visibilityTimeout</c>, and after <c>maxDequeueCount</c>
/// deliveries it moves unchanged to <c>&lt;queue&gt;-poison</c>. Message text is base64, the host's encoding.
/// </summary>
public sealed class QueueTriggerListener(FunctionDescriptor function, HostSettings settings, WorkerChannel channel, QueueClients queues, ILogger logger)
{
    // Held while a message runs; renewed never (the host renews, but our functions finish well within it).
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(10);

    /// <summary>Polls until <paramref name="stoppingToken"/> is cancelled.</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var trigger = function.Trigger;
        var queueName = settings.Resolve(trigger.Property("queueName") ?? throw new InvalidDataException($"{function.Name} names no queue."));
        var queue = queues.Get(trigger.Property("connection"), queueName);
        var poison = queues.Get(trigger.Property("connection"), queueName + "-poison");
        await queue.CreateIfNotExistsAsync(cancellationToken: stoppingToken);
        var options = settings.Queues;
        var running = new List<Task>();
        var idle = TimeSpan.FromMilliseconds(100);
        while (!stoppingToken.IsCancellationRequested)
        {
            running.RemoveAll(t => t.IsCompleted);
            if (running.Count > options.NewBatchThreshold)
            {
                await Task.WhenAny(running);
                continue;
            }

            QueueMessage[] batch;
            try
            {
                batch = (await queue.ReceiveMessagesAsync(options.BatchSize, Lease, stoppingToken)).Value;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is RequestFailedException or HttpRequestException or IOException)
            {
                logger.LogWarning(ex, "Receiving from {Queue} failed; retrying", queueName);
                batch = [];
            }

            if (batch.Length > 0)
            {
                idle = TimeSpan.FromMilliseconds(100);
                running.AddRange(batch.Select(m => ProcessAsync(queue, poison, m, stoppingToken)));
                continue;
            }

            try
            {
                await Task.Delay(idle, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            idle = TimeSpan.FromTicks(Math.Min(idle.Ticks * 2, Math.Max(options.MaxPollingInterval.Ticks, TimeSpan.FromMilliseconds(100).Ticks)));
        }

        await Task.WhenAll(running);
    }

    private async Task ProcessAsync(QueueClient queue, QueueClient poison, QueueMessage message, CancellationToken cancellationToken)
    {
        try
        {
            if (message.DequeueCount > settings.Queues.MaxDequeueCount)
            {
                await MoveToPoisonAsync(queue, poison, message, cancellationToken);
                return;
            }

            var response = await channel.InvokeAsync(Request(message), cancellationToken);
            if (response.Result.Status != StatusResult.Types.Status.Success)
            {
                throw new FunctionFailedException(response.Result.Exception?.Message ?? response.Result.Result);
            }

            await OutputBindings.WriteAsync(function, response, queues, settings, cancellationToken);
            await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping: the message comes back when its lease ends.
        }
        catch (Exception ex)
        {
            logger.LogError("{Function} failed on message {MessageId} (delivery {DequeueCount}): {Error}", function.Name, message.MessageId, message.DequeueCount, ex.Message);
            await FailAsync(queue, poison, message, cancellationToken);
        }
    }

    private InvocationRequest Request(QueueMessage message)
    {
        var request = new InvocationRequest { InvocationId = Guid.NewGuid().ToString(), FunctionId = function.FunctionId };
        var body = message.Body.ToString();
        request.InputData.Add(new ParameterBinding { Name = function.Trigger.Name, Data = new TypedData { String = body } });

        // As the host sends them: each value JSON-encoded.
        static TypedData Json(object? value) => new() { Json = JsonSerializer.Serialize(value) };
        request.TriggerMetadata["DequeueCount"] = Json(message.DequeueCount);
        request.TriggerMetadata["Id"] = Json(message.MessageId);
        request.TriggerMetadata["PopReceipt"] = Json(message.PopReceipt);
        request.TriggerMetadata["InsertionTime"] = Json(message.InsertedOn?.ToString("O", CultureInfo.InvariantCulture));
        request.TriggerMetadata["ExpirationTime"] = Json(message.ExpiresOn?.ToString("O", CultureInfo.InvariantCulture));
        request.TriggerMetadata["NextVisibleTime"] = Json(message.NextVisibleOn?.ToString("O", CultureInfo.InvariantCulture));
        return request;
    }

    private async Task FailAsync(QueueClient queue, QueueClient poison, QueueMessage message, CancellationToken cancellationToken)
    {
        try
        {
            if (message.DequeueCount >= settings.Queues.MaxDequeueCount)
            {
                await MoveToPoisonAsync(queue, poison, message, cancellationToken);
            }
            else
            {
                await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, (string?)null, settings.Queues.VisibilityTimeout, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is RequestFailedException or HttpRequestException or IOException or OperationCanceledException)
        {
            // The lease ends by itself and the message is tried again; nothing is lost.
            logger.LogWarning(ex, "Could not release message {MessageId} of {Queue}", message.MessageId, queue.Name);
        }
    }

    private async Task MoveToPoisonAsync(QueueClient queue, QueueClient poison, QueueMessage message, CancellationToken cancellationToken)
    {
        await poison.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await poison.SendMessageAsync(message.Body, cancellationToken: cancellationToken);
        await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
        logger.LogError("Message {MessageId} moved to {PoisonQueue} after {DequeueCount} deliveries", message.MessageId, poison.Name, message.DequeueCount);
    }
}

/// <summary>A function answered its invocation with a failure.</summary>
public sealed class FunctionFailedException(string message) : Exception(message)
{
    /// <summary>Creates the exception without a message.</summary>
    public FunctionFailedException()
        : this("The function failed.")
    {
    }

    /// <summary>Creates the exception with an inner one.</summary>
    public FunctionFailedException(string message, Exception inner)
        : this(message + ": " + inner?.Message)
    {
    }
}
