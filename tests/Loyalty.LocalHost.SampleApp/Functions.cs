using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

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
}
