using System.Diagnostics;
using Azure.Storage.Queues;

namespace Loyalty.Bench;

/// <summary>
/// Watches the storage emulator for stalls while a phase runs: a cheap request (a queue's properties) every 200 ms,
/// and any answer slower than <see cref="Threshold"/> counted as a stall. Azurite 3.37 run with
/// <c>--inMemoryPersistence</c> keeps every queue message body as its own extent, and its queue garbage collector
/// (once a minute) removes each deleted one with a scan of the extent list: with thousands of messages deleted in a
/// minute its single thread answers nothing for tens of seconds. A phase's time is then reported with the stalls it
/// contains, so a reader can tell the app's cost from the emulator's.
/// </summary>
internal sealed class StallProbe : BackgroundLoop
{
    public static readonly TimeSpan Threshold = TimeSpan.FromSeconds(2);

    private readonly object _gate = new();
    private readonly List<(double Start, double End)> _stalls = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public StallProbe(QueueClient queue)
    {
        ArgumentNullException.ThrowIfNull(queue);
        Start(cancellationToken => RunAsync(queue, cancellationToken));
    }

    /// <summary>Stalls seen so far: how many, their total and the longest (seconds).</summary>
    public (int Count, double TotalSeconds, double LongestSeconds) Stalls
    {
        get
        {
            lock (_gate)
            {
                return (_stalls.Count, _stalls.Sum(s => s.End - s.Start), _stalls.Count == 0 ? 0 : _stalls.Max(s => s.End - s.Start));
            }
        }
    }

    /// <summary>Seconds since the probe started (the clock of <see cref="StalledBetween"/>).</summary>
    public double Now => _clock.Elapsed.TotalSeconds;

    /// <summary>Seconds of stall between <paramref name="from"/> and <paramref name="to"/> seconds after the probe started.</summary>
    public double StalledBetween(double from, double to)
    {
        lock (_gate)
        {
            return _stalls.Sum(s => Math.Max(0, Math.Min(s.End, to) - Math.Max(s.Start, from)));
        }
    }

    private async Task RunAsync(QueueClient queue, CancellationToken cancellationToken)
    {
        try
        {
            await queue.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        }
        catch (Azure.RequestFailedException)
        {
            // Reading a missing queue's properties answers 404 just as fast: the probe times answers, not successes.
        }

        while (!cancellationToken.IsCancellationRequested)
        {
            var started = _clock.Elapsed.TotalSeconds;
            try
            {
                await queue.GetPropertiesAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Azure.RequestFailedException)
            {
                // An error answers too: only the time counts.
            }

            var ended = _clock.Elapsed.TotalSeconds;
            if (ended - started >= Threshold.TotalSeconds)
            {
                lock (_gate)
                {
                    _stalls.Add((started, ended));
                }
            }

            try
            {
                await Task.Delay(200, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
