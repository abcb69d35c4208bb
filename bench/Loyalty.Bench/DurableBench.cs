using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;

namespace Loyalty.Bench;

/// <summary>
/// The durable phase (design.md section 8): the real Durable Functions engine, measured from outside through the
/// benchmark app (bench/Loyalty.Bench.DurableApp) running under the local Functions host on Azurite. Three workloads:
/// one instance of 100 sequential activities and one fan-out/fan-in of 500 activities (each once cold, then
/// <see cref="SteadyRuns"/> times, the median reported), then 1,000 one-activity instances started together. Times
/// run from the first start request to the moment the driver sees the last instance finished (polling every
/// <see cref="PollInterval"/>); the engine's own span, from the first instance's creation to the last one's final
/// update as the instance store records them, is reported beside it.
/// </summary>
internal static class DurableBench
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Measured runs of each single-instance workload after its first (cold) run; the median is reported.</summary>
    internal const int SteadyRuns = 3;

    /// <summary>The benchmark app's maxConcurrentActivityFunctions (its host.json, as the loyalty app's).</summary>
    private const int ActivityConcurrency = 20;
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Runs the three workloads against the app at <paramref name="appUrl"/> and returns the report.</summary>
    public static async Task<DurableReport> RunAsync(Uri appUrl, string? storage, int sequentialSteps, int fanOutWidth, int instances)
    {
        ArgumentNullException.ThrowIfNull(appUrl);
        using var http = new HttpClient { BaseAddress = new Uri(appUrl.ToString().TrimEnd('/') + "/"), Timeout = TimeSpan.FromMinutes(2) };
        await using var probe = string.IsNullOrEmpty(storage) ? null : new StallProbe(new Azure.Storage.Queues.QueueClient(storage, "bench-stall-probe"));

        var loadBefore = LoadAverage();

        // The storage bound of the two single-instance workloads, on the same Azurite, just before them (DurableStorageBound).
        double? sequentialBound = null, fanOutBound = null, sequentialEngine = null, fanOutEngine = null;
        if (!string.IsNullOrEmpty(storage))
        {
            sequentialBound = await DurableStorageBound.SequentialAsync(storage, sequentialSteps);
            fanOutBound = await DurableStorageBound.FanOutAsync(storage, fanOutWidth, ActivityConcurrency);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"durable: storage bound {sequentialBound:F1} sequential steps/s, {fanOutBound:F1} fan-out activities/s ({ActivityConcurrency} in flight)"));
            try
            {
                (sequentialEngine, fanOutEngine) = await DurableEngineBound.MeasureAsync(storage, sequentialSteps, fanOutWidth);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"durable: the provider alone (DTFx in-process, no host or worker) {sequentialEngine:F1} sequential, {fanOutEngine:F1} fan-out activities/s"));
            }
            catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or Azure.RequestFailedException)
            {
                // The app's workloads are still measured; the report says the reference is missing.
                Console.WriteLine($"durable: the provider alone could not be measured: {ex.Message}");
            }
        }

        // One small instance of each kind just before the workloads: the provider's first episodes after start-up are
        // slow (partition leases, queue creation), and its queue polling has backed off while the references ran.
        var warmUp = Stopwatch.StartNew();
        var warm = await Task.WhenAll(RunWorkloadAsync(http, null, "warm-up", "SequentialChain", 2, 1), RunWorkloadAsync(http, null, "warm-up", "FanOutFanIn", 4, 1));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"durable: warm-up done in {warmUp.Elapsed.TotalSeconds:F1} s (completed: {warm.All(w => w.AllCompleted)})"));

        // Each single-instance workload runs once cold (reported, not counted), then SteadyRuns times; the median run is
        // the result. A host runs for days: what it does once its code is compiled to the optimised tier (the host's, the
        // worker's, the provider's) and Azurite is warm is its throughput. The first runs of a fresh process are up to
        // half as fast, and one run in several meets one of Azurite's stalls; the median of three is neither.
        var sequentialFirst = await RunWorkloadAsync(http, probe, "sequential, first", "SequentialChain", sequentialSteps, 1);
        Print(sequentialFirst);
        var fanOutFirst = await RunWorkloadAsync(http, probe, "fan-out, first", "FanOutFanIn", fanOutWidth, 1);
        Print(fanOutFirst);
        var sequentialRuns = new List<DurableResult>();
        var fanOutRuns = new List<DurableResult>();
        for (var run = 0; run < SteadyRuns; run++)
        {
            sequentialRuns.Add(await RunWorkloadAsync(http, probe, "sequential", "SequentialChain", sequentialSteps, 1));
            Print(sequentialRuns[^1]);
            fanOutRuns.Add(await RunWorkloadAsync(http, probe, "fan-out/fan-in", "FanOutFanIn", fanOutWidth, 1));
            Print(fanOutRuns[^1]);
        }

        var sequential = Median(sequentialRuns);
        var fanOut = Median(fanOutRuns);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"durable: median of {SteadyRuns}: sequential {sequential.ActivitiesPerSecond:F1}, fan-out/fan-in {fanOut.ActivitiesPerSecond:F1} activities/s (first runs {sequentialFirst.ActivitiesPerSecond:F1} and {fanOutFirst.ActivitiesPerSecond:F1})"));
        if (sequentialBound is { } sb && fanOutBound is { } fb)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"durable: ratio to the storage bound: sequential {sequential.ActivitiesPerSecond / sb:F2}, fan-out/fan-in {fanOut.ActivitiesPerSecond / fb:F2}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"durable: ratio to the provider alone: sequential {sequential.ActivitiesPerSecond / sequentialEngine:F2}, fan-out/fan-in {fanOut.ActivitiesPerSecond / fanOutEngine:F2}"));
        }

        var many = await RunWorkloadAsync(http, probe, "many instances", "SequentialChain", 1, instances);
        Print(many);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"durable: sequential {sequential.ActivitiesPerSecond:F1} activities/s; fan-out/fan-in {fanOut.ActivitiesPerSecond:F1} activities/s; "
            + $"{many.Instances:N0} one-activity instances in {many.Seconds:F1} s ({many.InstancesPerSecond:F1} instances/s), all completed: {many.AllCompleted}"));
        var loadAfter = LoadAverage();
        Console.WriteLine($"durable: load average (1 min) {loadBefore} before, {loadAfter} after, on {Environment.ProcessorCount} cores");
        return new DurableReport(DateTimeOffset.UtcNow, Environment.ProcessorCount, loadBefore, loadAfter, PollInterval.TotalMilliseconds, sequential, fanOut, many,
            sequentialBound, fanOutBound, sequential.ActivitiesPerSecond / sequentialBound, fanOut.ActivitiesPerSecond / fanOutBound,
            sequentialEngine, fanOutEngine, sequentialFirst, fanOutFirst,
            sequentialRuns.Select(r => r.ActivitiesPerSecond).ToList(), fanOutRuns.Select(r => r.ActivitiesPerSecond).ToList());
    }

    /// <summary>The run with the median rate (runs that did not complete count as the slowest).</summary>
    internal static DurableResult Median(IReadOnlyList<DurableResult> runs) =>
        runs.OrderBy(r => r.AllCompleted ? r.ActivitiesPerSecond : double.NegativeInfinity).ElementAt(runs.Count / 2);

    /// <summary>The machine's 1-minute load average (Linux), to tell a slow engine from a busy machine; null elsewhere.</summary>
    private static string? LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ', StringSplitOptions.RemoveEmptyEntries)[0] : null;

    private static void Print(DurableResult r) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"  {r.Workload,-15} {r.Instances,5} instance(s) x {r.ActivitiesPerInstance,3} activities: {r.Seconds,6:F2} s  "
        + $"{r.ActivitiesPerSecond,7:F1} activities/s  {r.InstancesPerSecond,7:F1} instances/s  (engine span {r.EngineSeconds:F2} s; starting took {r.StartSeconds:F2} s; "
        + $"Azurite stalled {r.StorageStallSeconds:F1} s; completed {r.Completed}/{r.Instances}{(r.Failures.Count > 0 ? "; " + string.Join("; ", r.Failures) : string.Empty)})"));

    /// <summary>Starts <paramref name="count"/> instances of <paramref name="orchestrator"/> with input <paramref name="input"/> at once, then waits for all of them.</summary>
    private static async Task<DurableResult> RunWorkloadAsync(HttpClient http, StallProbe? probe, string workload, string orchestrator, int input, int count)
    {
        var probeStart = probe?.Now ?? 0;
        var watch = Stopwatch.StartNew();
        var ids = await StartAllAsync(http, orchestrator, input, count);
        var startSeconds = watch.Elapsed.TotalSeconds;
        var final = count == 1 ? [await WaitForOneAsync(http, ids[0])] : await WaitForAllAsync(http, ids);
        var seconds = watch.Elapsed.TotalSeconds;

        var completed = final.Count(s => s.Status == "Completed");
        var failures = final.Where(s => s.Status != "Completed").GroupBy(s => $"{s.Status}: {s.Failure}", StringComparer.Ordinal)
            .Select(g => $"{g.Count()} x {g.Key}").ToList();
        var wrongOutputs = count == 1 && completed == 1 && final[0].Output is { ValueKind: JsonValueKind.Number } output && output.GetInt32() != input;
        if (wrongOutputs)
        {
            failures.Add($"output {final[0].Output} where {input} was expected");
        }

        var created = final.Where(s => s.CreatedAt is not null).Select(s => s.CreatedAt!.Value).DefaultIfEmpty().Min();
        var updated = final.Where(s => s.LastUpdatedAt is not null).Select(s => s.LastUpdatedAt!.Value).DefaultIfEmpty().Max();
        var activities = input * count;
        return new DurableResult(
            workload, orchestrator, count, input, activities, seconds, startSeconds, (updated - created).TotalSeconds,
            activities / seconds, count / seconds, completed, completed == count && !wrongOutputs, failures, probe?.StalledBetween(probeStart, probe.Now) ?? 0);
    }

    private static async Task<string[]> StartAllAsync(HttpClient http, string orchestrator, int input, int count)
    {
        // Many at once, but not all 1,000 requests on the wire together: 32 in flight keeps the local host's front busy
        // without queueing requests in the client.
        var ids = new string[count];
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
        {
            using var response = await http.PostAsync(new Uri($"api/instances/{orchestrator}/{input}", UriKind.Relative), null, ct);
            response.EnsureSuccessStatusCode();
            var started = await response.Content.ReadFromJsonAsync<StartedInstance>(Json, ct);
            ids[i] = started?.Id ?? throw new InvalidOperationException("The start function answered no instance id.");
        });
        return ids;
    }

    private static async Task<InstanceStatus> WaitForOneAsync(HttpClient http, string id)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        while (true)
        {
            var status = await ReadStatusAsync<InstanceStatus>(() => http.GetAsync(new Uri($"api/instances/{Uri.EscapeDataString(id)}", UriKind.Relative), timeout.Token), timeout.Token);
            if (status is { IsFinished: true })
            {
                return status;
            }

            await Task.Delay(PollInterval, timeout.Token);
        }
    }

    /// <summary>
    /// One status read; null when it failed. During one of Azurite's longer stalls the app's own Durable Task client
    /// gives up (its gRPC calls time out after 100 s) and the status function fails: the poll is tried again, as a
    /// monitoring client would, within the workload's timeout, and the failure is printed.
    /// </summary>
    private static async Task<T?> ReadStatusAsync<T>(Func<Task<HttpResponseMessage>> read, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            using var response = await read();
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.IsSuccessStatusCode && !string.IsNullOrWhiteSpace(body))
            {
                return JsonSerializer.Deserialize<T>(body, Json);
            }

            Console.WriteLine($"durable: a status read failed ({(int)response.StatusCode}, {body.Length} bytes); polling on");
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            Console.WriteLine($"durable: a status read failed ({ex.GetType().Name}: {ex.Message}); polling on");
        }

        return null;
    }

    /// <summary>
    /// Waits for many instances without reading every status on every round (that load would slow the engine being
    /// measured): each round reads the oldest unfinished ones, 50 at a time, and goes straight on to the next 50 while
    /// the batch it read was all finished; it waits a poll interval only when it meets unfinished ones.
    /// </summary>
    private static async Task<InstanceStatus[]> WaitForAllAsync(HttpClient http, string[] ids)
    {
        const int Batch = 50;
        using var timeout = new CancellationTokenSource(Timeout);
        var pending = new List<string>(ids);
        var finished = new Dictionary<string, InstanceStatus>(StringComparer.Ordinal);
        while (pending.Count > 0)
        {
            var batch = pending.Take(Batch).ToArray();
            var statuses = await ReadStatusAsync<InstanceStatus[]>(() => http.PostAsJsonAsync(new Uri("api/statuses", UriKind.Relative), batch, timeout.Token), timeout.Token);
            if (statuses is null)
            {
                await Task.Delay(PollInterval, timeout.Token);
                continue;
            }

            foreach (var status in statuses.Where(s => s.IsFinished))
            {
                finished[status.Id] = status;
            }

            pending.RemoveAll(finished.ContainsKey);
            if (statuses.Any(s => !s.IsFinished))
            {
                await Task.Delay(PollInterval, timeout.Token);
            }
        }

        return [.. ids.Select(id => finished[id])];
    }

    private sealed record StartedInstance(string Id);

    private sealed record InstanceStatus(string Id, string Status, JsonElement? Output, DateTimeOffset? CreatedAt, DateTimeOffset? LastUpdatedAt, string? Failure)
    {
        public bool IsFinished => Status is "Completed" or "Failed" or "Terminated" or "NotFound";
    }
}

/// <summary>The durable phase's report (artifacts/bench/durable.json).</summary>
internal sealed record DurableReport(
    DateTimeOffset At,
    int Cores,
    string? LoadAverageBefore,
    string? LoadAverageAfter,
    double PollIntervalMs,
    DurableResult Sequential,
    DurableResult FanOut,
    DurableResult ManyInstances,
    double? SequentialStorageBound,
    double? FanOutStorageBound,
    double? SequentialRatioToBound,
    double? FanOutRatioToBound,
    double? SequentialProviderAlone,
    double? FanOutProviderAlone,
    DurableResult SequentialFirst,
    DurableResult FanOutFirst,
    IReadOnlyList<double> SequentialRuns,
    IReadOnlyList<double> FanOutRuns);

/// <summary>
/// One durable workload: <see cref="Seconds"/> from the first start request to all instances seen finished;
/// <see cref="EngineSeconds"/> from the first instance's creation to the last one's final update, as the engine recorded them;
/// <see cref="StorageStallSeconds"/> how much of the workload's time Azurite answered nothing (<see cref="StallProbe"/>).
/// </summary>
internal sealed record DurableResult(
    string Workload,
    string Orchestrator,
    int Instances,
    int ActivitiesPerInstance,
    int Activities,
    double Seconds,
    double StartSeconds,
    double EngineSeconds,
    double ActivitiesPerSecond,
    double InstancesPerSecond,
    int Completed,
    bool AllCompleted,
    IReadOnlyList<string> Failures,
    double StorageStallSeconds);
