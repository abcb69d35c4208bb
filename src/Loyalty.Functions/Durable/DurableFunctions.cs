using Loyalty.Durable.Storage;
using Loyalty.Functions.Hosting;

namespace Loyalty.Functions.Durable;

/// <summary>
/// Queue-triggered (durable-control-NN): one step of an orchestration instance. Polled by local mode, triggered by
/// the host in Azure. A concurrent checkpoint by another dispatcher throws, so the message is delivered again.
/// </summary>
internal sealed class DurableControl(StorageOrchestrationService runtime) : IQueueFunction
{
    public Task RunAsync(QueueInvocation invocation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        return runtime.ProcessControlMessageAsync(invocation.Body, cancellationToken);
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
