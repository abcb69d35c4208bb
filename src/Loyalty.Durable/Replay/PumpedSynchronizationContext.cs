using System.Collections.Concurrent;

namespace Loyalty.Durable.Replay;

/// <summary>
/// Runs orchestrator continuations on the replaying thread, one at a time and in order, so that every replay takes
/// the same path. The executor pumps it after each history event.
/// </summary>
internal sealed class PumpedSynchronizationContext : SynchronizationContext
{
    private readonly ConcurrentQueue<(SendOrPostCallback Callback, object? State)> _queue = new();

    public override void Post(SendOrPostCallback d, object? state) => _queue.Enqueue((d, state));

    public override void Send(SendOrPostCallback d, object? state) => d(state);

    public override SynchronizationContext CreateCopy() => this;

    public void Pump()
    {
        while (_queue.TryDequeue(out var item))
        {
            item.Callback(item.State);
        }
    }
}
