using System.Collections.Concurrent;
using System.Diagnostics;

namespace Loyalty.Bench;

/// <summary>Latencies and outcomes per operation, collected from many terminals at once.</summary>
internal sealed class Recorder
{
    private readonly ConcurrentDictionary<string, ConcurrentBag<double>> _latencies = new();
    private readonly ConcurrentDictionary<string, int> _errors = new();

    public async Task<T> TimeAsync<T>(string operation, Func<Task<(T Result, string? ErrorCode)>> call)
    {
        var watch = Stopwatch.StartNew();
        var (result, error) = await call();
        watch.Stop();
        _latencies.GetOrAdd(operation, _ => []).Add(watch.Elapsed.TotalMilliseconds);
        if (error is not null)
        {
            _errors.AddOrUpdate($"{operation}:{error}", 1, (_, n) => n + 1);
        }

        return result;
    }

    public IReadOnlyDictionary<string, int> Errors => _errors;

    public IReadOnlyList<OperationStats> Summarise(TimeSpan elapsed) =>
        [.. _latencies.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => OperationStats.From(k.Key, [.. k.Value], elapsed))];
}

/// <summary>Throughput and latency percentiles of one operation.</summary>
internal sealed record OperationStats(string Operation, int Count, double PerSecond, double P50Ms, double P95Ms, double P99Ms, double MaxMs)
{
    public static OperationStats From(string operation, double[] latencies, TimeSpan elapsed)
    {
        Array.Sort(latencies);
        double At(double q) => latencies.Length == 0 ? 0 : latencies[Math.Min(latencies.Length - 1, (int)Math.Ceiling(q * latencies.Length) - 1)];
        return new(operation, latencies.Length, latencies.Length / elapsed.TotalSeconds, At(0.50), At(0.95), At(0.99), latencies.LastOrDefault());
    }
}
