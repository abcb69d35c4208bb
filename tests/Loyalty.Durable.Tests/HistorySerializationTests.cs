using System.Text.Json;
using Loyalty.Durable.History;
using Loyalty.Durable.Replay;
using Xunit;

namespace Loyalty.Durable.Tests;

public sealed class HistorySerializationTests
{
    [Fact]
    public void History_RoundTripsThroughJson_WithItsKinds()
    {
        var at = new DateTimeOffset(2026, 11, 22, 2, 0, 0, TimeSpan.Zero);
        HistoryEvent[] history =
        [
            new ExecutionStarted(at, "Reactivation", "{\"days\":90}", "e1"),
            new TaskScheduled(at, 0, "FindDormant", null),
            new TaskCompleted(at.AddSeconds(1), 0, "[1,2]"),
            new TaskFailed(at.AddSeconds(2), 1, "boom"),
            new TimerCreated(at, 2, at.AddDays(7)),
            new TimerFired(at.AddDays(7), 2),
            new EventRaised(at, "approved", "true", "evt-9"),
        ];

        var json = JsonSerializer.Serialize(history, OrchestrationExecutor.Json);
        var back = JsonSerializer.Deserialize<HistoryEvent[]>(json, OrchestrationExecutor.Json);

        Assert.Equal(history, back);
        Assert.Contains("\"kind\":\"taskScheduled\"", json, StringComparison.Ordinal);
    }

    private enum Level
    {
        Store,
        RegionManager,
    }

    private sealed record WithLevel(Level Level);

    [Fact]
    public void Enums_AreWrittenAsCamelCaseNames_AndNumbersFromOlderInstancesAreStillRead()
    {
        Assert.Equal("{\"level\":\"regionManager\"}", JsonSerializer.Serialize(new WithLevel(Level.RegionManager), OrchestrationExecutor.Json));
        Assert.Equal(Level.RegionManager, JsonSerializer.Deserialize<WithLevel>("{\"level\":1}", OrchestrationExecutor.Json)!.Level);
        Assert.Equal(Level.RegionManager, JsonSerializer.Deserialize<WithLevel>("{\"level\":\"regionManager\"}", OrchestrationExecutor.Json)!.Level);
    }
}
