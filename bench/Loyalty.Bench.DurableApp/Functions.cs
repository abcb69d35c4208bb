using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace Loyalty.Bench.DurableApp;

/// <summary>
/// The workloads of the durable benchmark and the HTTP surface the driver (bench/Loyalty.Bench) uses to start them and
/// watch them finish. The activity is as cheap as possible, so what is measured is the engine's own cost per step.
/// </summary>
public sealed class Functions
{
    private static readonly string[] Orchestrators = [nameof(SequentialChain), nameof(FanOutFanIn)];

    /// <summary>The activity: its input plus one.</summary>
    [Function(nameof(Increment))]
    public static int Increment([ActivityTrigger] int value) => value + 1;

    /// <summary>Calls <see cref="Increment"/> n times, each call waiting for the previous one; returns n.</summary>
    [Function(nameof(SequentialChain))]
    public static async Task<int> SequentialChain([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var steps = context.GetInput<int>();
        var value = 0;
        for (var i = 0; i < steps; i++)
        {
            value = await context.CallActivityAsync<int>(nameof(Increment), value);
        }

        return value;
    }

    /// <summary>Schedules n <see cref="Increment"/> calls at once and waits for all of them; returns how many answered.</summary>
    [Function(nameof(FanOutFanIn))]
    public static async Task<int> FanOutFanIn([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var width = context.GetInput<int>();
        var results = await Task.WhenAll(Enumerable.Range(0, width).Select(i => context.CallActivityAsync<int>(nameof(Increment), i)));
        return results.Length;
    }

    /// <summary>Starts one instance of an orchestrator with input <paramref name="count"/>; answers its id.</summary>
    [Function("StartInstance")]
    public static async Task<IActionResult> StartInstance(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "instances/{orchestrator}/{count:int}")] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string orchestrator,
        int count)
    {
        ArgumentNullException.ThrowIfNull(client);
        var name = Orchestrators.FirstOrDefault(o => string.Equals(o, orchestrator, StringComparison.OrdinalIgnoreCase));
        if (name is null || count < 0)
        {
            return new BadRequestObjectResult(new { error = $"unknown orchestrator {orchestrator} or negative count" });
        }

        var id = await client.ScheduleNewOrchestrationInstanceAsync(name, count);
        return new OkObjectResult(new { id });
    }

    /// <summary>One instance's status, output and timestamps.</summary>
    [Function("InstanceStatus")]
    public static async Task<IActionResult> InstanceStatus(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "instances/{id}")] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string id)
    {
        ArgumentNullException.ThrowIfNull(client);
        var instance = await client.GetInstanceAsync(id, getInputsAndOutputs: true);
        return instance is null ? new NotFoundResult() : new OkObjectResult(Describe(instance, withOutput: true));
    }

    /// <summary>The statuses of several instances at once (a JSON array of ids in the body; at most 100).</summary>
    [Function("InstanceStatuses")]
    public static async Task<IActionResult> InstanceStatuses(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "statuses")] HttpRequest request,
        [DurableClient] DurableTaskClient client)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(client);
        var ids = await JsonSerializer.DeserializeAsync<string[]>(request.Body);
        if (ids is null || ids.Length > 100)
        {
            return new BadRequestObjectResult(new { error = "expected a JSON array of at most 100 instance ids" });
        }

        var instances = await Task.WhenAll(ids.Select(id => client.GetInstanceAsync(id, getInputsAndOutputs: false)));
        return new OkObjectResult(ids.Zip(instances, (id, instance) => instance is null ? new InstanceView(id, "NotFound", null, null, null, null) : Describe(instance, withOutput: false)));
    }

    /// <summary>Answers once the worker serves HTTP (the script waits for it).</summary>
    [Function("Health")]
    public static IActionResult Health([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequest request) =>
        new OkObjectResult(new { status = "ok" });

    private static InstanceView Describe(OrchestrationMetadata instance, bool withOutput) => new(
        instance.InstanceId,
        instance.RuntimeStatus.ToString(),
        withOutput ? instance.ReadOutputAs<JsonElement?>() : null,
        instance.CreatedAt,
        instance.LastUpdatedAt,
        instance.FailureDetails?.ErrorMessage);
}

/// <summary>What the status functions answer for one instance.</summary>
public sealed record InstanceView(string Id, string Status, JsonElement? Output, DateTimeOffset? CreatedAt, DateTimeOffset? LastUpdatedAt, string? Failure);
