using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Loyalty.LocalHost;

/// <summary>
/// What the host reads before it starts the worker: host.json (route prefix, queue settings) from the app folder, and
/// the <c>Values</c> of local.settings.json, which become the worker's environment as under <c>func start</c>.
/// </summary>
public sealed class HostSettings
{
    /// <summary>The app's folder: a <c>dotnet publish</c> output, or a build output with functions.metadata.</summary>
    public required string AppDirectory { get; init; }

    /// <summary>The HTTP port of the functions (7071 under <c>func start</c>).</summary>
    public int Port { get; init; } = 7071;

    /// <summary>App settings: local.settings.json's <c>Values</c>, then the environment's overrides.</summary>
    public IReadOnlyDictionary<string, string> Values { get; init; } = new Dictionary<string, string>();

    /// <summary>host.json's <c>extensions.http.routePrefix</c>; <c>api</c> when absent.</summary>
    public string RoutePrefix { get; init; } = "api";

    /// <summary>host.json's <c>extensions.durableTask</c> (hub name, storage provider, concurrency), or null.</summary>
    public JsonNode? DurableTask { get; init; }

    /// <summary>host.json's <c>extensions.queues</c>.</summary>
    public QueueSettings Queues { get; init; } = new();

    /// <summary>The time zone of timer schedules: <c>WEBSITE_TIME_ZONE</c> or <c>TZ</c>, else UTC.</summary>
    public TimeZoneInfo TimerZone { get; init; } = TimeZoneInfo.Utc;

    /// <summary>A binding property with <c>%Setting%</c> expressions replaced by the settings' values, as the host does.</summary>
    public string Resolve(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return System.Text.RegularExpressions.Regex.Replace(value, "%([^%]+)%", m =>
            Setting(m.Groups[1].Value) ?? throw new InvalidOperationException($"The binding expression '{m.Value}' names a setting that is not set."));
    }

    /// <summary>
    /// A setting as binding expressions see it: present, even when empty; a section separator ':' also finds the
    /// environment form '__' (<c>%Loyalty:QueuePrefix%</c> reads <c>Loyalty__QueuePrefix</c>).
    /// </summary>
    private string? Setting(string name) =>
        Values.TryGetValue(name, out var value) || Values.TryGetValue(name.Replace(":", "__", StringComparison.Ordinal), out value) ? value : null;

    /// <summary>
    /// Whether the app setting <c>AzureWebJobs.{function}.Disabled</c> (or its environment form
    /// <c>AzureWebJobs__{function}__Disabled</c>) switches the function off, as in Azure: its trigger is not run.
    /// </summary>
    public bool IsDisabled(string function) =>
        (Get($"AzureWebJobs.{function}.Disabled") ?? Get($"AzureWebJobs__{function}__Disabled")) is { } value
        && (value.Equals("true", StringComparison.OrdinalIgnoreCase) || value == "1");

    /// <summary>A setting's value, or null.</summary>
    public string? Get(string name) => Values.TryGetValue(name, out var value) && value.Length > 0 ? value : null;

    /// <summary>
    /// Reads the app folder's host.json and a local.settings.json (the app folder's, else <paramref name="settingsFile"/>),
    /// then the process environment, which wins, as app settings do in Azure.
    /// </summary>
    public static HostSettings Load(string appDirectory, int port, string? settingsFile = null, IReadOnlyDictionary<string, string>? overrides = null)
    {
        var directory = Path.GetFullPath(appDirectory);
        if (!File.Exists(Path.Combine(directory, "functions.metadata")))
        {
            throw new InvalidOperationException($"{directory} has no functions.metadata: point the host at the app's build or publish output.");
        }

        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var file = new[] { Path.Combine(directory, "local.settings.json"), settingsFile }.FirstOrDefault(f => f is not null && File.Exists(f));
        if (file is not null && JsonNode.Parse(File.ReadAllText(file))?[nameof(Values)] is JsonObject fileValues)
        {
            foreach (var (key, value) in fileValues)
            {
                values[key] = value?.ToString() ?? string.Empty;
            }
        }

        // The environment wins over the file, as app settings do in Azure and environment variables do under `func start`.
        foreach (System.Collections.DictionaryEntry variable in Environment.GetEnvironmentVariables())
        {
            values[(string)variable.Key] = (string?)variable.Value ?? string.Empty;
        }

        foreach (var (key, value) in overrides ?? new Dictionary<string, string>())
        {
            values[key] = value;
        }

        var hostJson = JsonNode.Parse(File.ReadAllText(Path.Combine(directory, "host.json")), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        ApplyHostOverrides(hostJson as JsonObject, values);
        var extensions = hostJson?["extensions"];
        var zone = values.GetValueOrDefault("WEBSITE_TIME_ZONE") ?? values.GetValueOrDefault("TZ") ?? Environment.GetEnvironmentVariable("WEBSITE_TIME_ZONE");
        return new HostSettings
        {
            AppDirectory = directory,
            Port = port,
            Values = values,
            RoutePrefix = extensions?["http"]?["routePrefix"]?.GetValue<string>() ?? "api",
            Queues = QueueSettings.From(extensions?["queues"]),
            DurableTask = extensions?["durableTask"]?.DeepClone(),
            TimerZone = string.IsNullOrEmpty(zone) ? TimeZoneInfo.Utc : TimeZoneInfo.FindSystemTimeZoneById(zone),
        };
    }

    /// <summary>
    /// App settings named <c>AzureFunctionsJobHost__path__to__key</c> replace that host.json value, as the Functions host
    /// lets them (e.g. <c>AzureFunctionsJobHost__extensions__durableTask__hubName</c>). Whole numbers and true/false
    /// become JSON numbers and booleans.
    /// </summary>
    private static void ApplyHostOverrides(JsonObject? hostJson, Dictionary<string, string> values)
    {
        const string Prefix = "AzureFunctionsJobHost__";
        if (hostJson is null)
        {
            return;
        }

        foreach (var (key, value) in values.Where(v => v.Key.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase)))
        {
            var path = key[Prefix.Length..].Split("__");
            var node = hostJson;
            foreach (var part in path[..^1])
            {
                var name = node.FirstOrDefault(p => string.Equals(p.Key, part, StringComparison.OrdinalIgnoreCase)).Key ?? part;
                if (node[name] is not JsonObject child)
                {
                    child = [];
                    node[name] = child;
                }

                node = child;
            }

            var leaf = node.FirstOrDefault(p => string.Equals(p.Key, path[^1], StringComparison.OrdinalIgnoreCase)).Key ?? path[^1];
            node[leaf] = int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) ? JsonValue.Create(number)
                : bool.TryParse(value, out var flag) ? JsonValue.Create(flag)
                : JsonValue.Create(value);
        }
    }
}

/// <summary>host.json's queue settings, with the Functions host's defaults.</summary>
public sealed record QueueSettings
{
    /// <summary>Messages received at once (at most 32).</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>The next batch is fetched when no more than this many are still running; default half the batch.</summary>
    public int NewBatchThreshold { get; init; } = 8;

    /// <summary>Longest wait between polls of an empty queue.</summary>
    public TimeSpan MaxPollingInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>How long a failed message stays invisible before its next attempt.</summary>
    public TimeSpan VisibilityTimeout { get; init; } = TimeSpan.Zero;

    /// <summary>Deliveries before a message moves to <c>&lt;queue&gt;-poison</c>.</summary>
    public int MaxDequeueCount { get; init; } = 5;

    internal static QueueSettings From(JsonNode? node)
    {
        var batch = Math.Clamp(node?["batchSize"]?.GetValue<int>() ?? 16, 1, 32);
        return new QueueSettings
        {
            BatchSize = batch,
            NewBatchThreshold = node?["newBatchThreshold"]?.GetValue<int>() ?? batch / 2,
            MaxPollingInterval = Duration(node?["maxPollingInterval"]) ?? TimeSpan.FromMinutes(1),
            VisibilityTimeout = Duration(node?["visibilityTimeout"]) ?? TimeSpan.Zero,
            MaxDequeueCount = node?["maxDequeueCount"]?.GetValue<int>() ?? 5,
        };
    }

    private static TimeSpan? Duration(JsonNode? node) => node switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var text) => TimeSpan.Parse(text, CultureInfo.InvariantCulture),
        JsonValue v when v.TryGetValue<double>(out var ms) => TimeSpan.FromMilliseconds(ms),
        _ => null,
    };
}
