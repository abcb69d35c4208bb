using System.Text.Json;
using System.Text.Json.Serialization;
using Loyalty.Durable.History;
using Loyalty.Durable.Model;

namespace Loyalty.Durable.Replay;

/// <summary>
/// Runs one step of an orchestration: replays its past history (the code re-runs and every call is matched against
/// what history recorded), then applies the new messages and collects what the code asks for next. The code runs on a
/// pumped single-threaded context, so a replay is exact. A call that does not match history fails the instance as
/// non-deterministic.
/// </summary>
public static class OrchestrationExecutor
{
    /// <summary>
    /// JSON conventions of inputs, outputs and payloads: camelCase names, and enums as camelCase names (numbers written
    /// by earlier versions are still read).
    /// </summary>
    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>
    /// Executes a step. The first step of an execution passes an empty <paramref name="past"/> and the
    /// <see cref="ExecutionStarted"/> event as its only new event; later steps pass the whole history as the past.
    /// </summary>
    public static EpisodeResult Execute(IOrchestrator orchestrator, string instanceId, IReadOnlyList<HistoryEvent> past, IReadOnlyList<HistoryEvent> newEvents)
    {
        ArgumentNullException.ThrowIfNull(orchestrator);
        ArgumentNullException.ThrowIfNull(past);
        ArgumentNullException.ThrowIfNull(newEvents);
        var all = past.Concat(newEvents).ToList();
        if (all.FirstOrDefault() is not ExecutionStarted started)
        {
            throw new InvalidOperationException("History must begin with ExecutionStarted.");
        }

        var scheduled = all.Where(e => e is TaskScheduled or TimerCreated)
            .ToDictionary(e => e is TaskScheduled s ? s.TaskId : ((TimerCreated)e).TaskId);
        var context = new ReplayContext(instanceId, started.Name, started.ExecutionId, scheduled, Json) { Now = started.At };
        var sync = new PumpedSynchronizationContext();
        var previous = SynchronizationContext.Current;
        Task<object?> run;
        SynchronizationContext.SetSynchronizationContext(sync);
        try
        {
            // Code that runs because of an event already in the past is a replay; a call it makes must be in history.
            context.Replaying = past.Count > 0;
            var input = started.Input is null ? null : JsonSerializer.Deserialize(started.Input, orchestrator.InputType, Json);
            run = Start(orchestrator, context, input);
            sync.Pump();
            for (var i = 1; i < all.Count && context.Divergence is null; i++)
            {
                var e = all[i];
                context.Replaying = i < past.Count;
                context.Now = e.At;
                context.Apply(e);
                sync.Pump();
            }
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }

        if (context.Divergence is null && context.UnmatchedScheduled.FirstOrDefault(-1) is var missing and >= 0)
        {
            return Fail(newEvents, context, new NonDeterministicOrchestrationException($"Non-deterministic orchestration: history scheduled task {missing}, which the code no longer calls."));
        }

        if (context.Divergence is not null)
        {
            return Fail(newEvents, context, context.Divergence);
        }

        var appended = newEvents.Concat(context.Scheduled).ToList();
        if (!run.IsCompleted)
        {
            return new EpisodeResult(appended, context.Actions, null, context.CustomStatusJson);
        }

        if (run.IsFaulted)
        {
            var error = run.Exception!.InnerException ?? run.Exception;
            return new EpisodeResult(appended, [], new FailedOutcome($"{error.GetType().Name}: {error.Message}", error is NonDeterministicOrchestrationException), context.CustomStatusJson);
        }

        if (context.ContinuedAsNew)
        {
            return new EpisodeResult(appended, [], new ContinuedAsNewOutcome(context.ContinueAsNewInput), context.CustomStatusJson);
        }

        var output = run.Result is null ? null : JsonSerializer.Serialize(run.Result, run.Result.GetType(), Json);
        return new EpisodeResult(appended, [], new CompletedOutcome(output), context.CustomStatusJson);
    }

    private static Task<object?> Start(IOrchestrator orchestrator, ReplayContext context, object? input)
    {
        try
        {
            return orchestrator.RunAsync(context, input);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return Task.FromException<object?>(ex);
        }
    }

    private static EpisodeResult Fail(IReadOnlyList<HistoryEvent> newEvents, ReplayContext context, Exception error) =>
        new(newEvents, [], new FailedOutcome(error.Message, error is NonDeterministicOrchestrationException), context.CustomStatusJson);
}
