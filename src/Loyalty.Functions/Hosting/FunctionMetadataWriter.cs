using System.Text.Json;
using System.Text.Json.Nodes;

namespace Loyalty.Functions.Hosting;

/// <summary>
/// Writes one <c>&lt;FunctionName&gt;/function.json</c> per declared function, as the Functions host reads them for a
/// custom handler. HTTP functions use anonymous auth level: the app checks its own API keys.
/// </summary>
public static class FunctionMetadataWriter
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>The function.json document of one function.</summary>
    public static JsonObject ToFunctionJson(FunctionDefinition function)
    {
        ArgumentNullException.ThrowIfNull(function);
        var bindings = new JsonArray();
        switch (function.Trigger)
        {
            case HttpTrigger http:
                bindings.Add(new JsonObject
                {
                    ["type"] = "httpTrigger",
                    ["direction"] = "in",
                    ["name"] = "req",
                    ["authLevel"] = "anonymous",
                    ["methods"] = new JsonArray([.. http.Methods.Select(m => JsonValue.Create(m.ToLowerInvariant()))]),
                    ["route"] = http.Route,
                });
                bindings.Add(new JsonObject { ["type"] = "http", ["direction"] = "out", ["name"] = "res" });
                break;
            case QueueTrigger queue:
                bindings.Add(new JsonObject
                {
                    ["type"] = "queueTrigger",
                    ["direction"] = "in",
                    ["name"] = "message",
                    ["queueName"] = queue.QueueName,
                    ["connection"] = queue.Connection,
                });
                break;
            case ServiceBusTrigger bus:
                bindings.Add(new JsonObject
                {
                    ["type"] = "serviceBusTrigger",
                    ["direction"] = "in",
                    ["name"] = "message",
                    ["queueName"] = bus.QueueName,
                    ["connection"] = bus.Connection,
                });
                break;
            case TimerTrigger timer:
                bindings.Add(new JsonObject
                {
                    ["type"] = "timerTrigger",
                    ["direction"] = "in",
                    ["name"] = "timer",
                    ["schedule"] = timer.Schedule,
                    ["runOnStartup"] = false,
                    ["useMonitor"] = true,
                });
                break;
            default:
                throw new NotSupportedException($"Trigger {function.Trigger.GetType().Name} has no function.json form.");
        }

        return new JsonObject { ["bindings"] = bindings };
    }

    /// <summary>Writes every function's folder under <paramref name="root"/>; returns the files written.</summary>
    public static IReadOnlyList<string> Write(IEnumerable<FunctionDefinition> functions, string root)
    {
        ArgumentNullException.ThrowIfNull(functions);
        var written = new List<string>();
        foreach (var function in functions)
        {
            var folder = Path.Combine(root, function.Name);
            Directory.CreateDirectory(folder);
            var path = Path.Combine(folder, "function.json");
            File.WriteAllText(path, ToFunctionJson(function).ToJsonString(Indented) + "\n");
            written.Add(path);
        }

        return written;
    }
}
