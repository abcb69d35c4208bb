using System.Text.Json;
using Loyalty.Functions.Http;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Entities;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Loyalty.Functions.Tests.Support;

/// <summary>
/// Runs one orchestrator function against a <see cref="TaskOrchestrationContext"/> of the test's making: a clock the
/// test moves, activity doubles, and events raised by hand. Durable timers fire when the clock passes them; events
/// wait in a buffer for the first wait of their name, as the engine keeps them. Inputs, outputs and payloads go through
/// the app's JSON, as they do between the engine and the worker. What it checks is the orchestrator's own decisions;
/// the engine itself (replay, storage, crashes) is exercised by the API and crash tests on the local host.
/// </summary>
internal sealed class FakeOrchestration(DateTimeOffset start)
{
    private readonly Context _context = new(start.UtcDateTime);
    private Task<string>? _run;

    /// <summary>The orchestration's clock.</summary>
    public DateTimeOffset Now => new(_context.CurrentUtcDateTime, TimeSpan.Zero);

    /// <summary>Activity names called so far, in order.</summary>
    public IReadOnlyList<string> Calls => _context.Calls;

    /// <summary>The last custom status, as JSON.</summary>
    public string? CustomStatus => _context.CustomStatus is null ? null : JsonSerializer.Serialize(_context.CustomStatus, JsonDefaults.Options);

    /// <summary>Executions so far: the first, and one more for each continue-as-new.</summary>
    public int Executions => _context.Executions;

    /// <summary>Still waiting for a timer or an event.</summary>
    public bool IsRunning => _run is { IsCompleted: false };

    /// <summary>Registers an activity double.</summary>
    public FakeOrchestration Activity<TIn, TOut>(string name, Func<TIn, TOut> run)
    {
        _context.Activities[name] = input => run(Convert<TIn>(input)!);
        return this;
    }

    /// <summary>Starts the orchestrator; it runs until it waits for a timer or an event.</summary>
    public void Start<TIn, TOut>(Func<TaskOrchestrationContext, TIn, Task<TOut>> orchestrator, TIn input, string instanceId)
    {
        ArgumentNullException.ThrowIfNull(orchestrator);
        _context.Id = instanceId;
        _run = RunAsync(orchestrator, Convert<TIn>(input)!);
    }

    /// <summary>Raises an event to the instance.</summary>
    public void Raise(string name, object? payload) => _context.Raise(name, payload);

    /// <summary>Moves the clock; every timer due by then fires, in order.</summary>
    public void Advance(TimeSpan by) => _context.Advance(by);

    /// <summary>The output of the finished orchestrator (the test fails if it still runs or failed).</summary>
    public async Task<TOut> OutputAsync<TOut>()
    {
        Xunit.Assert.True(_run is { IsCompleted: true }, "The orchestration is still waiting.");
        return JsonSerializer.Deserialize<TOut>(await _run!, JsonDefaults.Options)!;
    }

    private static T? Convert<T>(object? value) =>
        JsonSerializer.Deserialize<T>(JsonSerializer.Serialize(value, JsonDefaults.Options), JsonDefaults.Options);

    // Runs the orchestrator; one that continues as new starts over with its new input (unprocessed events kept).
    private static async Task<string> RunAsync<TIn, TOut>(Func<TaskOrchestrationContext, TIn, Task<TOut>> orchestrator, TIn input, Context context)
    {
        while (true)
        {
            context.Executions++;
            var output = await orchestrator(context, input);
            if (context.TakeContinuation() is not { } next)
            {
                return JsonSerializer.Serialize(output, JsonDefaults.Options);
            }

            input = Convert<TIn>(next)!;
        }
    }

    private Task<string> RunAsync<TIn, TOut>(Func<TaskOrchestrationContext, TIn, Task<TOut>> orchestrator, TIn input) => RunAsync(orchestrator, input, _context);

    private sealed class Context(DateTime now) : TaskOrchestrationContext
    {
        private readonly List<(DateTime At, TaskCompletionSource Done)> _timers = [];
        private readonly Dictionary<string, Queue<string>> _buffered = new(StringComparer.OrdinalIgnoreCase);
        private readonly List<(string Name, Action<string> Deliver)> _waiters = [];
        private DateTime _now = now;

        private object? _continueWith;
        private bool _continued;

        public string Id { get; set; } = "instance";

        public int Executions { get; set; }

        public List<string> Calls { get; } = [];

        public Dictionary<string, Func<object?, object?>> Activities { get; } = new(StringComparer.Ordinal);

        public object? CustomStatus { get; private set; }

        public override TaskName Name => new("under-test");

        public override string InstanceId => Id;

        public override ParentOrchestrationInstance? Parent => null;

        public override DateTime CurrentUtcDateTime => _now;

        public override bool IsReplaying => false;

        public override TaskOrchestrationEntityFeature Entities => throw new NotSupportedException();

        protected override ILoggerFactory LoggerFactory => NullLoggerFactory.Instance;

        public override T GetInput<T>() => throw new NotSupportedException("The input is passed to the orchestrator's RunAsync.");

        public override Task<TResult> CallActivityAsync<TResult>(TaskName name, object? input = null, TaskOptions? options = null)
        {
            Calls.Add(name.Name);
            var activity = Activities.TryGetValue(name.Name, out var run) ? run : throw new InvalidOperationException($"No double for activity {name.Name}.");
            return Task.FromResult(Convert<TResult>(activity(input))!);
        }

        public override Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken)
        {
            var entry = (fireAt, new TaskCompletionSource());
            _timers.Add(entry);
            cancellationToken.Register(() => _timers.Remove(entry));
            return entry.Item2.Task;
        }

        public override Task<T> WaitForExternalEvent<T>(string eventName, CancellationToken cancellationToken = default)
        {
            if (_buffered.TryGetValue(eventName, out var queue) && queue.Count > 0)
            {
                return Task.FromResult(JsonSerializer.Deserialize<T>(queue.Dequeue(), JsonDefaults.Options)!);
            }

            var done = new TaskCompletionSource<T>();
            (string, Action<string>) waiter = (eventName, json => done.TrySetResult(JsonSerializer.Deserialize<T>(json, JsonDefaults.Options)!));
            _waiters.Add(waiter);
            cancellationToken.Register(() =>
            {
                _waiters.Remove(waiter);
                done.TrySetCanceled(cancellationToken);
            });
            return done.Task;
        }

        public void Raise(string name, object? payload)
        {
            var json = JsonSerializer.Serialize(payload, JsonDefaults.Options);
            var waiter = _waiters.FindIndex(w => string.Equals(w.Name, name, StringComparison.OrdinalIgnoreCase));
            if (waiter < 0)
            {
                (_buffered.TryGetValue(name, out var queue) ? queue : _buffered[name] = new Queue<string>()).Enqueue(json);
                return;
            }

            var deliver = _waiters[waiter].Deliver;
            _waiters.RemoveAt(waiter);
            deliver(json);
        }

        public void Advance(TimeSpan by)
        {
            _now += by;
            while (_timers.Where(t => t.At <= _now).OrderBy(t => t.At).FirstOrDefault() is { Done: not null } due)
            {
                _timers.Remove(due);
                due.Done.SetResult();
            }
        }

        public override void SendEvent(string instanceId, string eventName, object payload) => throw new NotSupportedException();

        public override void SetCustomStatus(object? customStatus) => CustomStatus = customStatus;

        public override Task<TResult> CallSubOrchestratorAsync<TResult>(TaskName orchestratorName, object? input = null, TaskOptions? options = null) =>
            throw new NotSupportedException();

        public override void ContinueAsNew(object? newInput = null, bool preserveUnprocessedEvents = true)
        {
            (_continueWith, _continued) = (newInput, true);
            CustomStatus = null;
        }

        public object? TakeContinuation()
        {
            var next = _continued ? _continueWith ?? new object() : null;
            (_continueWith, _continued) = (null, false);
            return next;
        }

        public override Guid NewGuid() => Guid.NewGuid();
    }
}
