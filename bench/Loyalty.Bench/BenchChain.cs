using System.Net.Http.Json;

namespace Loyalty.Bench;

/// <summary>The bench's chain: HQ, two regions (east, south) and 8 stores in each.</summary>
internal static class BenchChain
{
    public static IReadOnlyList<string> StoreIds { get; } = [.. Enumerable.Range(0, 16).Select(i => $"{(i < 8 ? "east" : "south")}-{i % 8:D3}")];

    /// <summary>Replaces the app's org configuration with the bench's chain.</summary>
    public static async Task PutOrgAsync(HttpClient admin)
    {
        var nodes = new List<object> { new { id = "hq", kind = "hq", name = "Bench HQ" }, new { id = "east", kind = "region", name = "East" }, new { id = "south", kind = "region", name = "South" } };
        nodes.AddRange(StoreIds.Select(s => (object)new { id = s, kind = "store", name = s, parentId = s.Split('-')[0] }));
        (await admin.PutAsJsonAsync("/api/config/org", new { nodes })).EnsureSuccessStatusCode();
    }
}
