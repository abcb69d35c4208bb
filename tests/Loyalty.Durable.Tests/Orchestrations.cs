using System.Collections.Concurrent;
using Loyalty.Durable.Model;

namespace Loyalty.Durable.Tests;

/// <summary>Orchestrations and activities the tests run.</summary>
internal sealed class Greet : TaskActivity<string, string>
{
    public override Task<string> RunAsync(TaskActivityContext context, string input) => Task.FromResult($"hello {input}");
}

internal sealed class Square : TaskActivity<int, int>
{
    public override Task<int> RunAsync(TaskActivityContext context, int input) => Task.FromResult(input * input);
}

/// <summary>Fails until it has been called <see cref="FailuresBeforeSuccess"/> times; records each attempt.</summary>
internal sealed class Flaky(ConcurrentBag<int> attempts, int failuresBeforeSuccess) : TaskActivity<int, string>
{
    public int FailuresBeforeSuccess => failuresBeforeSuccess;

    public override Task<string> RunAsync(TaskActivityContext context, int input)
    {
        attempts.Add(context.TaskId);
        return attempts.Count <= failuresBeforeSuccess ? throw new InvalidOperationException($"attempt {attempts.Count} fails") : Task.FromResult("ok");
    }
}

internal sealed class Sequence : TaskOrchestrator<string[], string>
{
    public override async Task<string> RunAsync(TaskOrchestrationContext context, string[] input)
    {
        var parts = new List<string>();
        foreach (var name in input)
        {
            parts.Add(await context.CallActivityAsync<string>("Greet", name));
        }

        return string.Join(", ", parts);
    }
}

internal sealed class FanOut : TaskOrchestrator<int, long>
{
    public override async Task<long> RunAsync(TaskOrchestrationContext context, int count)
    {
        var squares = await Task.WhenAll(Enumerable.Range(1, count).Select(i => context.CallActivityAsync<int>("Square", i)));
        return squares.Sum(s => (long)s);
    }
}

internal sealed class Sleeper : TaskOrchestrator<int, string>
{
    public override async Task<string> RunAsync(TaskOrchestrationContext context, int minutes)
    {
        context.SetCustomStatus(new { phase = "sleeping" });
        await context.CreateTimer(context.CurrentUtcDateTime.AddMinutes(minutes));
        context.SetCustomStatus(new { phase = "awake" });
        return $"woke at {context.CurrentUtcDateTime:HH:mm}";
    }
}

internal sealed class Approval : TaskOrchestrator<int, string>
{
    public override async Task<string> RunAsync(TaskOrchestrationContext context, int hours)
    {
        context.SetCustomStatus("waiting for approval");
        var (received, decision) = await context.WaitForExternalEvent<string>("decision", TimeSpan.FromHours(hours), "expired");
        return received ? $"decided: {decision}" : "expired";
    }
}

internal sealed class Retrying : TaskOrchestrator<int, string>
{
    public override Task<string> RunAsync(TaskOrchestrationContext context, int attempts) =>
        context.CallActivityAsync<string>("Flaky", 0, new RetryPolicy(attempts, TimeSpan.FromSeconds(10)));
}

internal sealed class Counter : TaskOrchestrator<int, int>
{
    public override async Task<int> RunAsync(TaskOrchestrationContext context, int value)
    {
        await context.CallActivityAsync<int>("Square", value);
        if (value < 5)
        {
            context.ContinueAsNew(value + 1);
        }

        return value;
    }
}

internal sealed class Guids : TaskOrchestrator<int, string>
{
    public static ConcurrentBag<string> LoggedLive { get; } = [];

    public override async Task<string> RunAsync(TaskOrchestrationContext context, int input)
    {
        var first = context.NewGuid();
        if (!context.IsReplaying)
        {
            LoggedLive.Add(context.InstanceId + ":first");
        }

        await context.CallActivityAsync<string>("Greet", first.ToString());
        var second = context.NewGuid();
        if (!context.IsReplaying)
        {
            LoggedLive.Add(context.InstanceId + ":second");
        }

        await context.CallActivityAsync<string>("Greet", "again");
        return $"{first}/{second}/{context.NewGuid()}";
    }
}

/// <summary>A "new version" of Sequence that calls a different activity first: replaying old histories must fail.</summary>
internal sealed class SequenceChanged : TaskOrchestrator<string[], string>
{
    public override async Task<string> RunAsync(TaskOrchestrationContext context, string[] input)
    {
        await context.CallActivityAsync<int>("Square", 2);
        return await context.CallActivityAsync<string>("Greet", input[0]);
    }
}
