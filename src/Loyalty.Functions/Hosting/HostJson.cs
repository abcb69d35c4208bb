using System.Text.Json;

namespace Loyalty.Functions.Hosting;

/// <summary>
/// The settings of host.json that local mode honours the way the Functions host does: the queue trigger's batch
/// size and new-batch threshold, retry visibility timeout, maximum dequeue count and polling interval, and the HTTP
/// route prefix.
/// </summary>
public sealed record HostJson(
    int BatchSize,
    TimeSpan VisibilityTimeout,
    int MaxDequeueCount,
    TimeSpan MaxPollingInterval,
    string RoutePrefix,
    string? ExecutablePath)
{
    private int? _newBatchThreshold;

    /// <summary>
    /// Another batch is fetched as soon as no more than this many messages are still being processed, so one slow
    /// message never holds up the queue. The host's default is half the batch size.
    /// </summary>
    public int NewBatchThreshold
    {
        get => _newBatchThreshold ?? BatchSize / 2;
        init => _newBatchThreshold = value;
    }

    /// <summary>The host's own defaults, used for anything host.json leaves out.</summary>
    public static HostJson Defaults { get; } = new(16, TimeSpan.Zero, 5, TimeSpan.FromMinutes(1), "api", null);

    /// <summary>Reads a host.json file.</summary>
    public static HostJson Load(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        var root = doc.RootElement;
        var result = Defaults;
        if (root.TryGetProperty("extensions", out var extensions))
        {
            if (extensions.TryGetProperty("queues", out var q))
            {
                result = result with
                {
                    BatchSize = q.TryGetProperty("batchSize", out var b) ? b.GetInt32() : result.BatchSize,
                    VisibilityTimeout = q.TryGetProperty("visibilityTimeout", out var v) ? TimeSpan.Parse(v.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : result.VisibilityTimeout,
                    MaxDequeueCount = q.TryGetProperty("maxDequeueCount", out var m) ? m.GetInt32() : result.MaxDequeueCount,
                    MaxPollingInterval = q.TryGetProperty("maxPollingInterval", out var p) ? TimeSpan.Parse(p.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : result.MaxPollingInterval,
                };
                if (q.TryGetProperty("newBatchThreshold", out var threshold))
                {
                    result = result with { NewBatchThreshold = threshold.GetInt32() };
                }
            }

            if (extensions.TryGetProperty("http", out var h) && h.TryGetProperty("routePrefix", out var prefix))
            {
                result = result with { RoutePrefix = prefix.GetString() ?? "api" };
            }
        }

        if (root.TryGetProperty("customHandler", out var ch) && ch.TryGetProperty("description", out var d) && d.TryGetProperty("defaultExecutablePath", out var exe))
        {
            result = result with { ExecutablePath = exe.GetString() };
        }

        if (result.BatchSize is < 1 or > 32)
        {
            throw new InvalidDataException("host.json extensions.queues.batchSize must be 1-32.");
        }

        if (result.NewBatchThreshold < 0)
        {
            throw new InvalidDataException("host.json extensions.queues.newBatchThreshold must not be negative.");
        }

        return result;
    }

    /// <summary>Finds host.json: an explicit path, else the working directory, else upwards from the app's folder.</summary>
    public static string? Find(string? explicitPath)
    {
        if (!string.IsNullOrEmpty(explicitPath))
        {
            return File.Exists(explicitPath) ? explicitPath : throw new FileNotFoundException("host.json not found", explicitPath);
        }

        var cwd = Path.Combine(Directory.GetCurrentDirectory(), "host.json");
        if (File.Exists(cwd))
        {
            return cwd;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "host.json");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
