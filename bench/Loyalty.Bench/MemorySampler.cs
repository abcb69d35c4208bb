using System.Globalization;

namespace Loyalty.Bench;

/// <summary>The app's resident memory over a run, from /proc (working set as the OS counts it).</summary>
internal sealed record MemoryReport(double FirstMb, double LastMb, double PeakMb, IReadOnlyList<double> SamplesMb);

/// <summary>Samples /proc/{pid}/status VmRSS every half second until stopped.</summary>
internal sealed class MemorySampler : IDisposable
{
    private readonly List<double> _samples = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly int _pid;

    public MemorySampler(int pid)
    {
        _pid = pid;
        _loop = pid > 0 ? LoopAsync() : Task.CompletedTask;
    }

    public MemoryReport Stop()
    {
        _stop.Cancel();
        _loop.GetAwaiter().GetResult();
        var peak = ReadKb("VmHWM") / 1024.0;
        lock (_samples)
        {
            return _samples.Count == 0
                ? new MemoryReport(0, 0, peak, [])
                : new MemoryReport(_samples[0], _samples[^1], Math.Max(peak, _samples.Max()), [.. _samples]);
        }
    }

    public void Dispose() => _stop.Dispose();

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var rss = ReadKb("VmRSS") / 1024.0;
            lock (_samples)
            {
                _samples.Add(Math.Round(rss, 1));
            }

            try
            {
                await Task.Delay(500, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private double ReadKb(string field)
    {
        try
        {
            var line = File.ReadLines($"/proc/{_pid}/status").FirstOrDefault(l => l.StartsWith(field + ":", StringComparison.Ordinal));
            return line is null ? 0 : double.Parse(line.Split(':')[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
