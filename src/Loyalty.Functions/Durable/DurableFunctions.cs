using Loyalty.Durable.Storage;
using Loyalty.Functions.Hosting;

namespace Loyalty.Functions.Durable;

/// <summary>
/// Queue-triggered (durable-control-NN): one step of an orchestration instance. Triggered by the Functions host in
/// Azure and by the local host here. When another dispatcher checkpointed the instance first, the message is queued
/// again with a short random delay and this delivery acknowledged, so contention never pushes a message toward the
/// poison queue.
/// </summary>
internal sealed class DurableControl(StorageOrchestrationService runtime) : IQueueFunction
{
    public async Task RunAsync(QueueInvocation invocation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        try
        {
            await runtime.ProcessControlMessageAsync(invocation.Body, cancellationToken);
        }
        catch (DurableConcurrencyException)
        {
            await runtime.RequeueAsync(invocation.Body, TimeSpan.FromMilliseconds(Random.Shared.Next(100, 1_000)), cancellationToken);
        }
    }
}

/// <summary>Queue-triggered (durable-work): runs one activity call and reports its result to the instance.</summary>
internal sealed class DurableWorkItem(StorageOrchestrationService runtime) : IQueueFunction
{
    public Task RunAsync(QueueInvocation invocation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        return runtime.ProcessWorkItemAsync(invocation.Body, cancellationToken);
    }
}
