namespace Loyalty.Durable.Model;

/// <summary>How an activity call is retried: attempts, first delay, backoff, longest delay.</summary>
/// <param name="MaxAttempts">Attempts in all (1 = no retry).</param>
/// <param name="FirstDelay">Delay before the second attempt.</param>
/// <param name="BackoffCoefficient">Multiplier of the delay per attempt.</param>
/// <param name="MaxDelay">Longest delay between attempts.</param>
public sealed record RetryPolicy(int MaxAttempts, TimeSpan FirstDelay, double BackoffCoefficient = 2, TimeSpan? MaxDelay = null)
{
    /// <summary>The delay before attempt <paramref name="attempt"/> (2 or more).</summary>
    public TimeSpan DelayBefore(int attempt)
    {
        var delay = FirstDelay * Math.Pow(BackoffCoefficient, attempt - 2);
        return MaxDelay is { } max && delay > max ? max : delay;
    }
}

/// <summary>An activity failed (after its retries).</summary>
public sealed class TaskFailedException(string activity, int taskId, string message) : Exception($"Activity {activity} (task {taskId}) failed: {message}")
{
    /// <summary>Name of the failed activity.</summary>
    public string Activity { get; } = activity;

    /// <summary>Task id of the failed call.</summary>
    public int TaskId { get; } = taskId;

    /// <summary>The activity's error message.</summary>
    public string ErrorMessage { get; } = message;
}

/// <summary>The orchestration's code did not schedule what its history says it did.</summary>
public sealed class NonDeterministicOrchestrationException(string message) : Exception(message);

/// <summary>
/// What an orchestrator may use: activities (with retry), durable timers, external events (with timeout), custom
/// status, continue-as-new, and deterministic time and ids. All of it is recorded in the history and replayed.
/// </summary>
public abstract class TaskOrchestrationContext
{
    /// <summary>The instance id.</summary>
    public abstract string InstanceId { get; }

    /// <summary>The orchestration name.</summary>
    public abstract string Name { get; }

    /// <summary>Time of the history event being processed: the same on every replay.</summary>
    public abstract DateTimeOffset CurrentUtcDateTime { get; }

    /// <summary>True while the code re-runs past steps from history (e.g. to skip duplicate logging).</summary>
    public abstract bool IsReplaying { get; }

    /// <summary>Calls an activity.</summary>
    public abstract Task<TResult> CallActivityAsync<TResult>(string name, object? input = null);

    /// <summary>A durable timer that completes at <paramref name="fireAt"/>.</summary>
    public abstract Task CreateTimer(DateTimeOffset fireAt, CancellationToken cancellationToken = default);

    /// <summary>Waits for an event raised to this instance by name (events are consumed in arrival order).</summary>
    public abstract Task<T> WaitForExternalEvent<T>(string name);

    /// <summary>Sets the status shown to clients while the orchestration runs.</summary>
    public abstract void SetCustomStatus(object? status);

    /// <summary>Ends this execution and starts over with a new input and an empty history.</summary>
    public abstract void ContinueAsNew(object? newInput);

    /// <summary>A new id, the same on every replay.</summary>
    public abstract Guid NewGuid();

    /// <summary>Calls an activity, retrying failures with durable timers between attempts.</summary>
    public async Task<TResult> CallActivityAsync<TResult>(string name, object? input, RetryPolicy retry)
    {
        ArgumentNullException.ThrowIfNull(retry);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await CallActivityAsync<TResult>(name, input);
            }
            catch (TaskFailedException) when (attempt < retry.MaxAttempts)
            {
                await CreateTimer(CurrentUtcDateTime + retry.DelayBefore(attempt + 1));
            }
        }
    }

    /// <summary>Waits for an event, or returns <paramref name="timedOut"/> after <paramref name="timeout"/>.</summary>
    public async Task<(bool Received, T? Value)> WaitForExternalEvent<T>(string name, TimeSpan timeout, T? timedOut = default)
    {
        using var cancel = new CancellationTokenSource();
        var received = WaitForExternalEvent<T>(name);
        var timer = CreateTimer(CurrentUtcDateTime + timeout, cancel.Token);
        var first = await Task.WhenAny(received, timer);
        if (first == received)
        {
            // Synchronous on purpose: CancelAsync would finish on the thread pool, outside the replay's single thread.
#pragma warning disable CA1849
            cancel.Cancel();
#pragma warning restore CA1849
            return (true, await received);
        }

        return (false, timedOut);
    }
}
