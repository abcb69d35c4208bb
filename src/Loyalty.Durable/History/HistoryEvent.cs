using System.Text.Json.Serialization;

namespace Loyalty.Durable.History;

/// <summary>One entry of an instance's append-only history. Payloads are JSON text.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
[JsonDerivedType(typeof(ExecutionStarted), "started")]
[JsonDerivedType(typeof(TaskScheduled), "taskScheduled")]
[JsonDerivedType(typeof(TaskCompleted), "taskCompleted")]
[JsonDerivedType(typeof(TaskFailed), "taskFailed")]
[JsonDerivedType(typeof(TimerCreated), "timerCreated")]
[JsonDerivedType(typeof(TimerFired), "timerFired")]
[JsonDerivedType(typeof(EventRaised), "eventRaised")]
public abstract record HistoryEvent(DateTimeOffset At);

/// <summary>The execution began.</summary>
public sealed record ExecutionStarted(DateTimeOffset At, string Name, string? Input, string ExecutionId) : HistoryEvent(At);

/// <summary>An activity call was scheduled.</summary>
public sealed record TaskScheduled(DateTimeOffset At, int TaskId, string Name, string? Input) : HistoryEvent(At);

/// <summary>An activity call returned.</summary>
public sealed record TaskCompleted(DateTimeOffset At, int TaskId, string? Result) : HistoryEvent(At);

/// <summary>An activity call failed.</summary>
public sealed record TaskFailed(DateTimeOffset At, int TaskId, string Error) : HistoryEvent(At);

/// <summary>A durable timer was created.</summary>
public sealed record TimerCreated(DateTimeOffset At, int TaskId, DateTimeOffset FireAt) : HistoryEvent(At);

/// <summary>A durable timer fired.</summary>
public sealed record TimerFired(DateTimeOffset At, int TaskId) : HistoryEvent(At);

/// <summary>An external event arrived (deduplicated by <paramref name="EventId"/>).</summary>
public sealed record EventRaised(DateTimeOffset At, string Name, string? Input, string EventId) : HistoryEvent(At);
