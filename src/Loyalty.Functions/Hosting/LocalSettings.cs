using System.Text.Json;

namespace Loyalty.Functions.Hosting;

/// <summary>
/// Reads the <c>Values</c> of local.settings.json (the Functions Core Tools convention) into configuration, so the
/// same file serves <c>func start</c> and the app's own local mode. Environment variables still win.
/// </summary>
internal static class LocalSettings
{
    public static void AddLocalSettings(this ConfigurationManager configuration, string directory)
    {
        var path = Path.Combine(directory, "local.settings.json");
        if (!File.Exists(path))
        {
            return;
        }

        using var doc = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        if (!doc.RootElement.TryGetProperty("Values", out var values))
        {
            return;
        }

        var settings = values.EnumerateObject()
            .Where(p => p.Value.ValueKind == JsonValueKind.String && Environment.GetEnvironmentVariable(p.Name) is null)
            .ToDictionary(p => p.Name.Replace("__", ":", StringComparison.Ordinal), p => p.Value.GetString());
        configuration.AddInMemoryCollection(settings);
    }
}
