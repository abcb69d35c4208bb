using System.Text.Json;
using System.Text.Json.Nodes;

namespace Loyalty.Functions.Hosting.CustomHandler;

/// <summary>
/// Azure mode: the Functions host POSTs each non-HTTP invocation to <c>/{FunctionName}</c>. The answer is
/// <c>{"Outputs":{},"Logs":[..],"ReturnValue":null}</c>; a non-2xx status fails the invocation, so the host retries
/// the message and finally moves it to the poison queue.
/// </summary>
internal static class InvocationEndpoints
{
    public static void MapInvocations(this IEndpointRouteBuilder app, IEnumerable<FunctionDefinition> functions)
    {
        foreach (var function in functions)
        {
            switch (function.Trigger)
            {
                case QueueTrigger or ServiceBusTrigger:
                    Func<HttpContext, Task<IResult>> queue = http => InvokeAsync(http, function, (root, sp) =>
                        ((IQueueFunction)sp.GetRequiredService((Type)function.Handler)).RunAsync(InvocationPayload.ReadQueue(root, "message"), http.RequestAborted));
                    app.MapPost("/" + function.Name, queue);
                    break;
                case TimerTrigger:
                    Func<HttpContext, Task<IResult>> timer = http => InvokeAsync(http, function, (root, sp) =>
                        ((ITimerFunction)sp.GetRequiredService((Type)function.Handler)).RunAsync(
                            InvocationPayload.ReadTimer(root, "timer", sp.GetRequiredService<TimeProvider>().GetUtcNow()), http.RequestAborted));
                    app.MapPost("/" + function.Name, timer);
                    break;
                default:
                    break;
            }
        }
    }

    private static async Task<IResult> InvokeAsync(HttpContext http, FunctionDefinition function, Func<JsonElement, IServiceProvider, Task> run)
    {
        var logger = http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Loyalty.Invocation");
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted);
        }
        catch (JsonException ex)
        {
            logger.LogWarning(ex, "Invocation of {Function} had an unreadable payload", function.Name);
            return Answer(StatusCodes.Status400BadRequest, $"Unreadable invocation payload: {ex.Message}");
        }

        using (document)
        {
            try
            {
                await run(document.RootElement, http.RequestServices);
                return Answer(StatusCodes.Status200OK, $"{function.Name} completed");
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !http.RequestAborted.IsCancellationRequested)
            {
                logger.LogError(ex, "Invocation of {Function} failed", function.Name);
                return Answer(StatusCodes.Status500InternalServerError, $"{function.Name} failed: {ex.GetType().Name}: {ex.Message}");
            }
        }
    }

    private static IResult Answer(int status, string log) => Results.Json(
        new JsonObject
        {
            ["Outputs"] = new JsonObject(),
            ["Logs"] = new JsonArray(JsonValue.Create(log)),
            ["ReturnValue"] = null,
        },
        statusCode: status);
}
