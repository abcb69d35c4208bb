namespace Loyalty.Durable.Model;

/// <summary>Lifecycle of an instance, as Durable Functions names it.</summary>
public enum RuntimeStatus
{
    /// <summary>Created, not yet started by a dispatcher.</summary>
    Pending,
    /// <summary>Started and not finished.</summary>
    Running,
    /// <summary>Returned an output.</summary>
    Completed,
    /// <summary>Threw, or was found non-deterministic.</summary>
    Failed,
    /// <summary>Terminated by a client.</summary>
    Terminated,
}

/// <summary>What a client sees of an instance.</summary>
public sealed record OrchestrationState(
    string InstanceId,
    string Name,
    RuntimeStatus Status,
    string? Input,
    string? Output,
    string? CustomStatus,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastUpdatedAt,
    string ExecutionId);

/// <summary>Starts, queries, signals and removes orchestration instances.</summary>
public interface IOrchestrationClient
{
    /// <summary>Starts an instance; starting an id that is pending or running does nothing and returns it.</summary>
    Task<string> StartAsync(string name, object? input, string? instanceId = null, CancellationToken cancellationToken = default);

    /// <summary>The instance's state, or null.</summary>
    Task<OrchestrationState?> GetAsync(string instanceId, CancellationToken cancellationToken = default);

    /// <summary>Raises an event; an event id already seen is ignored.</summary>
    Task RaiseEventAsync(string instanceId, string eventName, object? payload, string? eventId = null, CancellationToken cancellationToken = default);

    /// <summary>Terminates a running instance; false when it had already finished.</summary>
    Task<bool> TerminateAsync(string instanceId, string reason, CancellationToken cancellationToken = default);

    /// <summary>Removes an instance and its history; false when unknown.</summary>
    Task<bool> PurgeAsync(string instanceId, CancellationToken cancellationToken = default);

    /// <summary>Instances by name and status.</summary>
    Task<IReadOnlyList<OrchestrationState>> ListAsync(string? name = null, RuntimeStatus? status = null, CancellationToken cancellationToken = default);
}
