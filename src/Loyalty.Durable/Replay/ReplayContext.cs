using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Loyalty.Durable.History;
using Loyalty.Durable.Model;

namespace Loyalty.Durable.Replay;

/// <summary>The context an orchestrator sees while the executor replays its history and runs it forward.</summary>
internal sealed class ReplayContext(string instanceId, string name, string executionId, IReadOnlyDictionary<int, HistoryEvent> scheduled, JsonSerializerOptions json) : TaskOrchestrationContext
{
    private readonly Dictionary<int, TaskCompletionSource<string?>> _tasks = [];
    private readonly Dictionary<int, TaskCompletionSource> _timers = [];
    private readonly Dictionary<string, Queue<TaskCompletionSource<string?>>> _waiters = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Queue<string?>> _buffered = new(StringComparer.Ordinal);
    private readonly HashSet<int> _matched = [];
    private int _nextTaskId;
    private int _guidCounter;

    public List<OrchestratorAction> Actions { get; } = [];

    public List<HistoryEvent> Scheduled { get; } = [];

    public string? CustomStatusJson { get; private set; }

    public bool ContinuedAsNew { get; private set; }

    public string? ContinueAsNewInput { get; private set; }

    public Exception? Divergence { get; private set; }

    public DateTimeOffset Now { get; set; }

    public bool Replaying { get; set; }

    public override string InstanceId => instanceId;

    public override string Name => name;

    public override DateTimeOffset CurrentUtcDateTime => Now;

    public override bool IsReplaying => Replaying;

    public IEnumerable<int> UnmatchedScheduled => scheduled.Keys.Where(id => !_matched.Contains(id));

    public override async Task<TResult> CallActivityAsync<TResult>(string activity, object? input = null)
    {
        var id = _nextTaskId++;
        var source = new TaskCompletionSource<string?>();
        _tasks[id] = source;
        if (Match(id, e => e is TaskScheduled s && s.Name == activity, $"activity {activity}"))
        {
            var inputJson = input is null ? null : JsonSerializer.Serialize(input, json);
            Actions.Add(new ScheduleTaskAction(id, activity, inputJson));
            Scheduled.Add(new TaskScheduled(Now, id, activity, inputJson));
        }

        var result = await source.Task;
        return result is null ? default! : JsonSerializer.Deserialize<TResult>(result, json)!;
    }

    public override Task CreateTimer(DateTimeOffset fireAt, CancellationToken cancellationToken = default)
    {
        var id = _nextTaskId++;
        var source = new TaskCompletionSource();
        _timers[id] = source;
        if (Match(id, e => e is TimerCreated, "a timer"))
        {
            Actions.Add(new CreateTimerAction(id, fireAt));
            Scheduled.Add(new TimerCreated(Now, id, fireAt));
        }

        cancellationToken.Register(() => source.TrySetCanceled());
        return source.Task;
    }

    public override async Task<T> WaitForExternalEvent<T>(string eventName)
    {
        string? payload;
        if (_buffered.TryGetValue(eventName, out var buffer) && buffer.Count > 0)
        {
            payload = buffer.Dequeue();
        }
        else
        {
            var source = new TaskCompletionSource<string?>();
            if (!_waiters.TryGetValue(eventName, out var waiters))
            {
                _waiters[eventName] = waiters = new Queue<TaskCompletionSource<string?>>();
            }

            waiters.Enqueue(source);
            payload = await source.Task;
        }

        return payload is null ? default! : JsonSerializer.Deserialize<T>(payload, json)!;
    }

    public override void SetCustomStatus(object? status) => CustomStatusJson = status is null ? null : JsonSerializer.Serialize(status, json);

    public override void ContinueAsNew(object? newInput)
    {
        ContinuedAsNew = true;
        ContinueAsNewInput = newInput is null ? null : JsonSerializer.Serialize(newInput, json);
    }

    public override Guid NewGuid()
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{instanceId}/{executionId}/{_guidCounter++}"));
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash.AsSpan(0, 16));
    }

    public void Apply(HistoryEvent e)
    {
        switch (e)
        {
            case TaskCompleted c when _tasks.TryGetValue(c.TaskId, out var done):
                done.TrySetResult(c.Result);
                break;
            case TaskFailed f when _tasks.TryGetValue(f.TaskId, out var failed):
                var activity = scheduled.TryGetValue(f.TaskId, out var s) && s is TaskScheduled ts ? ts.Name : "?";
                failed.TrySetException(new TaskFailedException(activity, f.TaskId, f.Error));
                break;
            case TimerFired t when _timers.TryGetValue(t.TaskId, out var timer):
                timer.TrySetResult();
                break;
            case EventRaised r:
                if (_waiters.TryGetValue(r.Name, out var waiters) && waiters.Count > 0)
                {
                    waiters.Dequeue().TrySetResult(r.Input);
                }
                else
                {
                    if (!_buffered.TryGetValue(r.Name, out var buffer))
                    {
                        _buffered[r.Name] = buffer = new Queue<string?>();
                    }

                    buffer.Enqueue(r.Input);
                }

                break;
            case TaskCompleted or TaskFailed or TimerFired:
                Divergence ??= new NonDeterministicOrchestrationException($"History completes task {TaskIdOf(e)}, which the orchestrator never scheduled.");
                break;
            default:
                break;
        }
    }

    /// <summary>True when the call is new; false when history already has it (and it matches).</summary>
    private bool Match(int id, Func<HistoryEvent, bool> matches, string what)
    {
        if (scheduled.TryGetValue(id, out var recorded))
        {
            _matched.Add(id);
            if (!matches(recorded))
            {
                Divergence ??= new NonDeterministicOrchestrationException(
                    $"Non-deterministic orchestration: task {id} was {Describe(recorded)} in history but the code now schedules {what}.");
            }

            return false;
        }

        if (Replaying)
        {
            Divergence ??= new NonDeterministicOrchestrationException(
                $"Non-deterministic orchestration: the code schedules {what} as task {id} while replaying, where history has nothing.");
        }

        return true;
    }

    private static string Describe(HistoryEvent e) => e switch
    {
        TaskScheduled s => $"activity {s.Name}",
        TimerCreated => "a timer",
        _ => e.GetType().Name,
    };

    private static int TaskIdOf(HistoryEvent e) => e switch
    {
        TaskCompleted c => c.TaskId,
        TaskFailed f => f.TaskId,
        TimerFired t => t.TaskId,
        _ => -1,
    };
}
