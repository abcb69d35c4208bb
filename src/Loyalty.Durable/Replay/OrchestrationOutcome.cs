using Loyalty.Durable.History;

namespace Loyalty.Durable.Replay;

/// <summary>Something the orchestrator asked for in this step.</summary>
public abstract record OrchestratorAction;

/// <summary>Run an activity.</summary>
public sealed record ScheduleTaskAction(int TaskId, string Name, string? Input) : OrchestratorAction;

/// <summary>Fire a timer at a time.</summary>
public sealed record CreateTimerAction(int TaskId, DateTimeOffset FireAt) : OrchestratorAction;

/// <summary>How an execution ended.</summary>
public abstract record OrchestrationOutcome;

/// <summary>Returned normally.</summary>
public sealed record CompletedOutcome(string? Output) : OrchestrationOutcome;

/// <summary>Threw, or was found non-deterministic.</summary>
public sealed record FailedOutcome(string Error, bool NonDeterministic) : OrchestrationOutcome;

/// <summary>Asked to start over with a new input.</summary>
public sealed record ContinuedAsNewOutcome(string? Input) : OrchestrationOutcome;

/// <summary>The result of running one step (episode): what to append, what to do, and whether it ended.</summary>
/// <param name="NewHistory">Events to append to the history: the new messages, then what the code scheduled.</param>
/// <param name="Actions">Activities and timers to dispatch.</param>
/// <param name="Outcome">Set when the execution ended in this step.</param>
/// <param name="CustomStatus">Custom status (JSON) after the step.</param>
public sealed record EpisodeResult(IReadOnlyList<HistoryEvent> NewHistory, IReadOnlyList<OrchestratorAction> Actions, OrchestrationOutcome? Outcome, string? CustomStatus);
