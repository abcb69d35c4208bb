namespace Loyalty.Durable.Model;

/// <summary>
/// An orchestrator: deterministic async code that coordinates activities, timers and events through its
/// <see cref="TaskOrchestrationContext"/>. It is replayed from its history after every step, so it must follow the
/// determinism rules:
/// <list type="bullet">
/// <item>use <see cref="TaskOrchestrationContext.CurrentUtcDateTime"/> and <see cref="TaskOrchestrationContext.NewGuid"/>,
/// never <c>DateTime.UtcNow</c>, <c>Guid.NewGuid</c> or random numbers;</item>
/// <item>do no I/O and no waiting of its own (no HttpClient, storage, <c>Task.Delay</c>, <c>Task.Run</c>,
/// <c>ConfigureAwait(false)</c>, threads or locks): call activities and timers instead;</item>
/// <item>read no mutable static state or environment; configuration belongs in the input;</item>
/// <item>schedule the same calls in the same order on every replay; changing the code of a running orchestration
/// makes it fail as non-deterministic.</item>
/// </list>
/// </summary>
/// <typeparam name="TInput">Input type (JSON-serialisable).</typeparam>
/// <typeparam name="TOutput">Output type (JSON-serialisable).</typeparam>
public abstract class TaskOrchestrator<TInput, TOutput> : IOrchestrator
{
    /// <summary>The orchestration's logic.</summary>
    public abstract Task<TOutput> RunAsync(TaskOrchestrationContext context, TInput input);

    /// <inheritdoc />
    Type IOrchestrator.InputType => typeof(TInput);

    /// <inheritdoc />
    async Task<object?> IOrchestrator.RunAsync(TaskOrchestrationContext context, object? input) =>
        await RunAsync(context, (TInput)input!);
}

/// <summary>An activity: a unit of I/O called by orchestrators. Activities run at least once, so they must be idempotent.</summary>
/// <typeparam name="TInput">Input type.</typeparam>
/// <typeparam name="TOutput">Output type.</typeparam>
public abstract class TaskActivity<TInput, TOutput> : IActivity
{
    /// <summary>The activity's work.</summary>
    public abstract Task<TOutput> RunAsync(TaskActivityContext context, TInput input);

    /// <inheritdoc />
    Type IActivity.InputType => typeof(TInput);

    /// <inheritdoc />
    async Task<object?> IActivity.RunAsync(TaskActivityContext context, object? input) => await RunAsync(context, (TInput)input!);
}

/// <summary>What an activity knows about its call: which instance and task, so writes can be keyed by them.</summary>
/// <param name="InstanceId">The calling orchestration instance.</param>
/// <param name="TaskId">The call's task id within the instance (stable across retries of the message).</param>
/// <param name="Name">Activity name.</param>
public sealed record TaskActivityContext(string InstanceId, int TaskId, string Name);

/// <summary>Untyped view of an orchestrator, for the runtime.</summary>
public interface IOrchestrator
{
    /// <summary>Input type.</summary>
    Type InputType { get; }

    /// <summary>Runs with an untyped input.</summary>
    Task<object?> RunAsync(TaskOrchestrationContext context, object? input);
}

/// <summary>Untyped view of an activity, for the runtime.</summary>
public interface IActivity
{
    /// <summary>Input type.</summary>
    Type InputType { get; }

    /// <summary>Runs with an untyped input.</summary>
    Task<object?> RunAsync(TaskActivityContext context, object? input);
}
