using Microsoft.DurableTask;

namespace Loyalty.Functions.Durable;

/// <summary>How the orchestrations call their activities.</summary>
internal static class Activities
{
    /// <summary>
    /// Five attempts, 2 s apart at first, doubling up to a minute: the engine's durable timers space them, so a storage
    /// hiccup costs a retry, not the instance. Every activity is idempotent by its own key, so a retry repeats nothing.
    /// </summary>
    public static TaskOptions Retry { get; } = TaskOptions.FromRetryPolicy(new RetryPolicy(5, TimeSpan.FromSeconds(2), 2, TimeSpan.FromMinutes(1)));
}
