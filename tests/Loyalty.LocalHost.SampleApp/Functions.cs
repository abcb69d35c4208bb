using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace Loyalty.LocalHost.SampleApp;

/// <summary>One function per trigger kind the local host serves; queue names come from app settings.</summary>
public sealed class Functions
{
    [Function("Echo")]
    public static async Task<IActionResult> Echo([HttpTrigger(AuthorizationLevel.Anonymous, "get", "post", Route = "echo/{name}")] HttpRequest request, string name)
    {
        using var reader = new StreamReader(request.Body);
        var body = await reader.ReadToEndAsync();
        return new OkObjectResult(new { name, method = request.Method, query = request.Query["q"].ToString(), body, header = request.Headers["X-Sample"].ToString() });
    }

    [Function("Teapot")]
    public static IActionResult Teapot([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "echo/teapot")] HttpRequest request) =>
        new ObjectResult("short and stout") { StatusCode = 418 };

    [Function("Relay")]
    [QueueOutput("%RelayedQueue%", Connection = "SampleStorage")]
    public static string Relay([QueueTrigger("%IncomingQueue%", Connection = "SampleStorage")] string message) =>
        message == "fail" ? throw new InvalidOperationException("asked to fail") : "relayed:" + message;

    [Function("Tick")]
    [QueueOutput("%TicksQueue%", Connection = "SampleStorage")]
    public static string Tick([TimerTrigger("*/1 * * * * *")] TimerInfo timer) => "tick";

    /// <summary>An orchestration: one activity, a fan-out of three, then a wait for the "approve" event.</summary>
    [Function("Greeting")]
    public static async Task<string> Greeting([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        var name = context.GetInput<string>() ?? "nobody";
        var first = await context.CallActivityAsync<string>("SayHello", name);
        var fan = await Task.WhenAll(Enumerable.Range(1, 3).Select(i => context.CallActivityAsync<string>("SayHello", $"{name}{i}")));
        context.SetCustomStatus(new { phase = "waiting" });
        var approved = await context.WaitForExternalEvent<bool>("approve");
        return $"{first}|{string.Join(",", fan)}|approved={approved}";
    }

    [Function("SayHello")]
    public static string SayHello([ActivityTrigger] string name) =>
        name == "boom" ? throw new InvalidOperationException("asked to fail") : $"hello {name}";

    [Function("StartGreeting")]
    public static async Task<IActionResult> StartGreeting(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "greet/{name}")] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string name)
    {
        var id = await client.ScheduleNewOrchestrationInstanceAsync("Greeting", name);
        return new OkObjectResult(new { id });
    }

    [Function("GreetingStatus")]
    public static async Task<IActionResult> GreetingStatus(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "greetings/{id}")] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string id)
    {
        var instance = await client.GetInstanceAsync(id, getInputsAndOutputs: true);
        return instance is null
            ? new NotFoundResult()
            : new OkObjectResult(new { status = instance.RuntimeStatus.ToString(), output = instance.SerializedOutput, customStatus = instance.SerializedCustomStatus, failure = instance.FailureDetails?.ErrorMessage });
    }

    [Function("ApproveGreeting")]
    public static async Task<IActionResult> ApproveGreeting(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "greetings/{id}/approve")] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string id)
    {
        await client.RaiseEventAsync(id, "approve", true);
        return new AcceptedResult();
    }

    /// <summary>An orchestration around one slow activity (for crash tests: the worker dies while it runs).</summary>
    [Function("SlowGreeting")]
    public static async Task<string> SlowGreeting([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        context.SetCustomStatus("slow");
        return await context.CallActivityAsync<string>("SlowHello", context.GetInput<string>());
    }

    [Function("SlowHello")]
    public static async Task<string> SlowHello([ActivityTrigger] string name)
    {
        await Task.Delay(TimeSpan.FromSeconds(3));
        return $"slowly {name}";
    }

    [Function("StartSlowGreeting")]
    public static async Task<IActionResult> StartSlowGreeting(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "slow/{name}")] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string name)
    {
        var id = await client.ScheduleNewOrchestrationInstanceAsync("SlowGreeting", name);
        return new OkObjectResult(new { id });
    }
}
