using System.Globalization;

namespace Loyalty.Bench;

/// <summary>Command-line settings of a benchmark run.</summary>
internal sealed record Options(
    string AppUrl,
    string AdminKey,
    string StorageConnection,
    string TablePrefix,
    int AppPid,
    int Members,
    int Terminals,
    TimeSpan Duration,
    string OutputJson)
{
    public static Options Parse(string[] args)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                map[args[i].TrimStart('-')] = args[i + 1];
                i++;
            }
        }

        string Get(string name, string? fallback = null) =>
            map.TryGetValue(name, out var v) ? v : fallback ?? throw new ArgumentException($"--{name} is required");

        return new Options(
            Get("app"),
            Get("key"),
            Get("storage"),
            Get("table-prefix", string.Empty),
            int.Parse(Get("app-pid", "0"), CultureInfo.InvariantCulture),
            int.Parse(Get("members", "10000"), CultureInfo.InvariantCulture),
            int.Parse(Get("terminals", "32"), CultureInfo.InvariantCulture),
            TimeSpan.FromSeconds(double.Parse(Get("seconds", "20"), CultureInfo.InvariantCulture)),
            Get("json", "artifacts/bench/result.json"));
    }
}
