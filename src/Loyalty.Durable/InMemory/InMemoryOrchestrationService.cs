using System.Text.Json;
using Loyalty.Durable.History;
using Loyalty.Durable.Model;
using Loyalty.Durable.Replay;

namespace Loyalty.Durable.InMemory;

/// <summary>
/// The runtime in memory, for fast tests of orchestrations: instances, histories, an activity work list and timers
/// live in dictionaries; <see cref="RunUntilIdleAsync"/> dispatches everything that is due on the (controllable)
/// clock. Same executor and same client contract as the Azure Storage backend.
/// </summary>
public sealed class InMemoryOrchestrationService(OrchestrationRegistry registry, TimeProvider clock) : IOrchestrationClient
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Instance> _instances = new(StringComparer.Ordinal);
    private readonly Queue<(string InstanceId, string ExecutionId, ScheduleTaskAction Task)> _work = new();
    private readonly List<(string InstanceId, string ExecutionId, CreateTimerAction Timer)> _timers = [];

    /// <summary>How many activity invocations ran (retries included).</summary>
    public int ActivityInvocations { get; private set; }

    /// <inheritdoc />
    public Task<string> StartAsync(string name, object? input, string? instanceId = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var id = instanceId ?? Guid.NewGuid().ToString("N");
        lock (_gate)
        {
            if (_instances.TryGetValue(id, out var existing) && existing.Status is RuntimeStatus.Pending or RuntimeStatus.Running)
            {
                return Task.FromResult(id);
            }

            var now = clock.GetUtcNow();
            var inputJson = input is null ? null : JsonSerializer.Serialize(input, OrchestrationExecutor.Json);
            var instance = new Instance(id, name, now) { Input = inputJson };
            instance.Inbox.Add(new ExecutionStarted(now, name, inputJson, instance.ExecutionId));
            _instances[id] = instance;
        }

        return Task.FromResult(id);
    }

    /// <inheritdoc />
    public Task<OrchestrationState?> GetAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult(_instances.TryGetValue(instanceId, out var i) ? i.State() : null);
        }
    }

    /// <inheritdoc />
    public Task RaiseEventAsync(string instanceId, string eventName, object? payload, string? eventId = null, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (!_instances.TryGetValue(instanceId, out var instance))
            {
                throw new InvalidOperationException($"No instance '{instanceId}'.");
            }

            var id = eventId ?? Guid.NewGuid().ToString("N");
            if (instance.SeenEvents.Add(id) && instance.Status is RuntimeStatus.Pending or RuntimeStatus.Running)
            {
                var json = payload is null ? null : JsonSerializer.Serialize(payload, OrchestrationExecutor.Json);
                instance.Inbox.Add(new EventRaised(clock.GetUtcNow(), eventName, json, id));
            }
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<bool> TerminateAsync(string instanceId, string reason, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (!_instances.TryGetValue(instanceId, out var instance) || instance.Status is not (RuntimeStatus.Pending or RuntimeStatus.Running))
            {
                return Task.FromResult(false);
            }

            instance.Finish(RuntimeStatus.Terminated, JsonSerializer.Serialize(reason, OrchestrationExecutor.Json), clock.GetUtcNow());
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc />
    public Task<bool> PurgeAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult(_instances.Remove(instanceId));
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<OrchestrationState>> ListAsync(string? name = null, RuntimeStatus? status = null, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            IReadOnlyList<OrchestrationState> list = [.. _instances.Values.Where(i => (name is null || i.Name == name) && (status is null || i.Status == status)).Select(i => i.State())];
            return Task.FromResult(list);
        }
    }

    /// <summary>The history of an instance's current execution.</summary>
    public IReadOnlyList<HistoryEvent> History(string instanceId)
    {
        lock (_gate)
        {
            return [.. _instances[instanceId].History];
        }
    }

    /// <summary>Runs one round of orchestration steps only (no activities): lets tests stop an instance mid-way.</summary>
    public Task RunStepsOnlyAsync()
    {
        RunSteps();
        return Task.CompletedTask;
    }

    /// <summary>Runs orchestration steps, activities and due timers until nothing is left to do now.</summary>
    public async Task RunUntilIdleAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var progressed = RunSteps() | FireDueTimers();
            (string InstanceId, string ExecutionId, ScheduleTaskAction Task)[] work;
            lock (_gate)
            {
                work = [.. _work];
                _work.Clear();
            }

            foreach (var item in work)
            {
                await RunActivityAsync(item.InstanceId, item.ExecutionId, item.Task);
                progressed = true;
            }

            if (!progressed)
            {
                return;
            }
        }
    }

    private bool RunSteps()
    {
        var progressed = false;
        lock (_gate)
        {
            foreach (var instance in _instances.Values.Where(i => i.Inbox.Count > 0 && i.Status is RuntimeStatus.Pending or RuntimeStatus.Running).ToList())
            {
                var inbox = instance.Inbox.ToList();
                instance.Inbox.Clear();
                var result = OrchestrationExecutor.Execute(registry.Orchestrator(instance.Name), instance.Id, instance.History, inbox);
                instance.History.AddRange(result.NewHistory);
                instance.CustomStatus = result.CustomStatus;
                instance.Status = RuntimeStatus.Running;
                instance.LastUpdatedAt = clock.GetUtcNow();
                foreach (var action in result.Actions)
                {
                    switch (action)
                    {
                        case ScheduleTaskAction task:
                            _work.Enqueue((instance.Id, instance.ExecutionId, task));
                            break;
                        case CreateTimerAction timer:
                            _timers.Add((instance.Id, instance.ExecutionId, timer));
                            break;
                        default:
                            break;
                    }
                }

                switch (result.Outcome)
                {
                    case CompletedOutcome done:
                        instance.Finish(RuntimeStatus.Completed, done.Output, clock.GetUtcNow());
                        break;
                    case FailedOutcome failed:
                        instance.Finish(RuntimeStatus.Failed, JsonSerializer.Serialize(failed.Error, OrchestrationExecutor.Json), clock.GetUtcNow());
                        break;
                    case ContinuedAsNewOutcome next:
                        instance.Restart(next.Input, clock.GetUtcNow());
                        break;
                    default:
                        break;
                }

                progressed = true;
            }
        }

        return progressed;
    }

    private bool FireDueTimers()
    {
        lock (_gate)
        {
            var now = clock.GetUtcNow();
            var due = _timers.Where(t => t.Timer.FireAt <= now).ToList();
            foreach (var timer in due)
            {
                _timers.Remove(timer);
                if (_instances.TryGetValue(timer.InstanceId, out var instance) && instance.ExecutionId == timer.ExecutionId)
                {
                    instance.Inbox.Add(new TimerFired(now, timer.Timer.TaskId));
                }
            }

            return due.Count > 0;
        }
    }

    private async Task RunActivityAsync(string instanceId, string executionId, ScheduleTaskAction task)
    {
        ActivityInvocations++;
        HistoryEvent result;
        var activity = registry.Activity(task.Name);
        try
        {
            if (activity is null)
            {
                throw new InvalidOperationException($"No activity '{task.Name}' is registered.");
            }

            var input = task.Input is null ? null : JsonSerializer.Deserialize(task.Input, activity.InputType, OrchestrationExecutor.Json);
            var output = await activity.RunAsync(new TaskActivityContext(instanceId, task.TaskId, task.Name), input);
            result = new TaskCompleted(clock.GetUtcNow(), task.TaskId, output is null ? null : JsonSerializer.Serialize(output, output.GetType(), OrchestrationExecutor.Json));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            result = new TaskFailed(clock.GetUtcNow(), task.TaskId, ex.Message);
        }

        lock (_gate)
        {
            if (_instances.TryGetValue(instanceId, out var instance) && instance.ExecutionId == executionId && instance.Status == RuntimeStatus.Running)
            {
                instance.Inbox.Add(result);
            }
        }
    }

    private sealed class Instance(string id, string name, DateTimeOffset createdAt)
    {
        public string Id { get; } = id;

        public string Name { get; } = name;

        public string ExecutionId { get; private set; } = Guid.NewGuid().ToString("N");

        public RuntimeStatus Status { get; set; } = RuntimeStatus.Pending;

        public string? Input { get; set; }

        public string? Output { get; private set; }

        public string? CustomStatus { get; set; }

        public DateTimeOffset CreatedAt { get; } = createdAt;

        public DateTimeOffset LastUpdatedAt { get; set; } = createdAt;

        public List<HistoryEvent> History { get; private set; } = [];

        public List<HistoryEvent> Inbox { get; } = [];

        public HashSet<string> SeenEvents { get; } = new(StringComparer.Ordinal);

        public void Finish(RuntimeStatus status, string? output, DateTimeOffset at)
        {
            Status = status;
            Output = output;
            LastUpdatedAt = at;
            Inbox.Clear();
        }

        public void Restart(string? input, DateTimeOffset at)
        {
            // Events that arrived during the old execution are carried over, as Durable Functions does.
            var carried = Inbox.OfType<EventRaised>().ToList();
            ExecutionId = Guid.NewGuid().ToString("N");
            History = [];
            Input = input;
            Inbox.Clear();
            Inbox.Add(new ExecutionStarted(at, Name, input, ExecutionId));
            Inbox.AddRange(carried);
            LastUpdatedAt = at;
        }

        public OrchestrationState State() => new(Id, Name, Status, Input, Output, CustomStatus, CreatedAt, LastUpdatedAt, ExecutionId);
    }
}
