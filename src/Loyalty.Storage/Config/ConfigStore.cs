using Azure.Data.Tables;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Azure;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;

namespace Loyalty.Storage.Config;

/// <summary>A configuration document and its version (0 while the default applies).</summary>
public sealed record ConfigDocument<T>(T Value, long Version);

/// <summary>
/// Small configuration documents (one partition per section): the current row holds the JSON and version, and
/// every version is kept as its own row, written in the same transaction as the switch. Reads are cached for a few
/// seconds; a write invalidates this instance's cache at once.
/// </summary>
public sealed class ConfigStore(TableStore store, TimeProvider time)
{
    private const string Current = "current";
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(10);
    private readonly ConcurrentDictionary<string, (object Document, DateTimeOffset Until)> _cache = new();

    /// <summary>Reads a section, or its default when never written.</summary>
    public async Task<ConfigDocument<T>> GetAsync<T>(string section, T fallback, CancellationToken cancellationToken = default)
    {
        if (_cache.TryGetValue(section, out var cached) && cached.Until > time.GetUtcNow() && cached.Document is ConfigDocument<T> hit)
        {
            return hit;
        }

        var row = await store.Config.FindEntityAsync(section, Current, cancellationToken);
        var document = row is null
            ? new ConfigDocument<T>(fallback, 0)
            : new ConfigDocument<T>(JsonSerializer.Deserialize<T>(row.Require("Json"), ConfigJson.Options)!, row.GetInt64("Version") ?? 0);
        _cache[section] = (document, time.GetUtcNow() + CacheFor);
        return document;
    }

    /// <summary>
    /// Stores a new version when the current one is still <paramref name="expectedVersion"/>; returns the new
    /// version, or null when someone else changed it first.
    /// </summary>
    public async Task<long?> PutAsync<T>(string section, T value, long expectedVersion, string actor, CancellationToken cancellationToken = default)
    {
        var row = await store.Config.FindEntityAsync(section, Current, cancellationToken);
        var version = row?.GetInt64("Version") ?? 0;
        if (version != expectedVersion)
        {
            return null;
        }

        var json = JsonSerializer.Serialize(value, ConfigJson.Options);
        var next = version + 1;
        var current = new TableEntity(section, Current) { ["Json"] = json, ["Version"] = next, ["ChangedBy"] = actor, ["ChangedAt"] = time.GetUtcNow() };
        var history = new TableEntity(section, "v" + next.ToString("D10", CultureInfo.InvariantCulture)) { ["Json"] = json, ["ChangedBy"] = actor, ["ChangedAt"] = time.GetUtcNow() };
        try
        {
            await store.Config.SubmitTransactionAsync(
            [
                row is null
                    ? new(TableTransactionActionType.Add, current)
                    : new(TableTransactionActionType.UpdateReplace, current, row.ETag),
                new(TableTransactionActionType.Add, history),
            ],
                cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            return null;
        }

        _cache.TryRemove(section, out _);
        return next;
    }
}
