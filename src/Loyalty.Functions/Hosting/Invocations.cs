namespace Loyalty.Functions.Hosting;

/// <summary>A queue message handed to a function, in either hosting mode.</summary>
/// <param name="Body">Message text (decoded).</param>
/// <param name="MessageId">Queue message id.</param>
/// <param name="DequeueCount">Deliveries so far, this one included.</param>
/// <param name="InsertionTime">When it was enqueued.</param>
public sealed record QueueInvocation(string Body, string MessageId, long DequeueCount, DateTimeOffset? InsertionTime);

/// <summary>A timer firing.</summary>
/// <param name="ScheduledAt">The occurrence being fired.</param>
/// <param name="IsPastDue">True when it fires late (e.g. after a restart).</param>
public sealed record TimerInvocation(DateTimeOffset ScheduledAt, bool IsPastDue);

/// <summary>A queue-triggered function. Throwing fails the invocation: it is retried and finally poisoned.</summary>
public interface IQueueFunction
{
    /// <summary>Handles one message; must be idempotent (delivery is at least once).</summary>
    Task RunAsync(QueueInvocation invocation, CancellationToken cancellationToken);
}

/// <summary>A timer-triggered function.</summary>
public interface ITimerFunction
{
    /// <summary>Runs once per occurrence.</summary>
    Task RunAsync(TimerInvocation invocation, CancellationToken cancellationToken);
}
