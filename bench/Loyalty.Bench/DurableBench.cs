using Azure.Storage.Queues;
using Azure.Data.Tables;
using System.Diagnostics;
using Loyalty.Durable.Model;
using Loyalty.Durable.Storage;
using Loyalty.Functions.Durable;
using Loyalty.Storage.Queues;
using Loyalty.Storage.Tables;

namespace Loyalty.Bench;

/// <summary>Adds one to its input: the cheapest possible activity, so the runtime's own cost is what is measured.</summary>
internal sealed class Increment : TaskActivity<int, int>
{
    public override Task<int> RunAsync(TaskActivityContext context, int input) => Task.FromResult(input + 1);
}

internal sealed class SequentialChain : TaskOrchestrator<int, int>
{
    public override async Task<int> RunAsync(TaskOrchestrationContext context, int count)
    {
        var value = 0;
        for (var i = 0; i < count; i++)
        {
            value = await context.CallActivityAsync<int>("Increment", value);
        }

        return value;
    }
}

internal sealed class FanOutFanIn : TaskOrchestrator<int, int>
{
    public override async Task<int> RunAsync(TaskOrchestrationContext context, int count) =>
        (await Task.WhenAll(Enumerable.Range(0, count).Select(i => context.CallActivityAsync<int>("Increment", i)))).Length;
}

/// <summary>
/// The orchestration runtime on Azurite (design.md section 8): sequential activities per second (one instance, each
/// step replays a growing history), fan-out/fan-in activities per second, and many small instances, with several
/// dispatcher loops on the same queues as a scaled-out app would run.
/// </summary>
internal static class DurableBench
{
    public static async Task<object> RunAsync(TableServiceClient tables, QueueServiceClient queues, string prefix, int dispatchers)
    {
        var table = tables.GetTableClient(prefix + "BenchDurable");
        await table.CreateIfNotExistsAsync();
        var control = Enumerable.Range(0, 4).Select(i => queues.GetQueueClient($"{prefix.ToLowerInvariant()}bench-control-{i:D2}")).ToList();
        var work = queues.GetQueueClient($"{prefix.ToLowerInvariant()}bench-work");
        await Task.WhenAll(control.Select(q => q.CreateIfNotExistsAsync()).Append(work.CreateIfNotExistsAsync()));
        var registry = new OrchestrationRegistry()
            .AddActivity("Increment", () => new Increment())
            .AddOrchestrator("SequentialChain", () => new SequentialChain())
            .AddOrchestrator("FanOutFanIn", () => new FanOutFanIn());
        var service = new StorageOrchestrationService(
            new TableInstanceTable(table), [.. control.Select(q => new QueueChannel(q))], new QueueChannel(work), registry, TimeProvider.System);

        var sequential = await MeasureAsync(service, control, work, dispatchers, [("SequentialChain", 100)]);
        var fanOut = await MeasureAsync(service, control, work, dispatchers, [("FanOutFanIn", 500)]);
        var many = await MeasureAsync(service, control, work, dispatchers, [.. Enumerable.Range(0, 1_000).Select(_ => ("SequentialChain", 1))]);
        Console.WriteLine($"durable: sequential {sequential.ActivitiesPerSecond:F1} activities/s; fan-out/fan-in {fanOut.ActivitiesPerSecond:F1} activities/s; "
            + $"1,000 one-activity instances in {many.Seconds:F1} s ({many.InstancesPerSecond:F1} instances/s), all completed: {many.AllCompleted}");
        return new { dispatchers, sequential, fanOut, manyInstances = many };
    }

    private static async Task<DurableResult> MeasureAsync(StorageOrchestrationService service, List<QueueClient> control, QueueClient work, int dispatchers, (string Name, int Count)[] starts)
    {
        var watch = Stopwatch.StartNew();
        var ids = new List<string>();
        foreach (var (name, count) in starts)
        {
            ids.Add(await service.StartAsync(name, count));
        }

        var activities = starts.Sum(s => s.Count);
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var done = 0;
        await Task.WhenAll(Enumerable.Range(0, dispatchers).Select(d => DispatchAsync(service, control, work, () => Volatile.Read(ref done) == 1, stop.Token))
            .Append(WatchAsync()));
        var seconds = watch.Elapsed.TotalSeconds;
        var completed = 0;
        foreach (var id in ids)
        {
            completed += (await service.GetAsync(id))?.Status == RuntimeStatus.Completed ? 1 : 0;
        }

        return new DurableResult(activities, ids.Count, seconds, activities / seconds, ids.Count / seconds, completed == ids.Count);

        async Task WatchAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                var finished = 0;
                foreach (var id in ids)
                {
                    finished += (await service.GetAsync(id))?.Status is RuntimeStatus.Completed or RuntimeStatus.Failed ? 1 : 0;
                }

                if (finished == ids.Count)
                {
                    Volatile.Write(ref done, 1);
                    return;
                }

                await Task.Delay(ids.Count > 10 ? 500 : 50);
            }
        }
    }

    // A message whose visibility ran out while its step ran: another dispatcher holds it, or has already deleted it.
    private static bool LeaseLost(Azure.RequestFailedException ex) => ex.ErrorCode is "PopReceiptMismatch" or "MessageNotFound";

    private static async Task DispatchAsync(StorageOrchestrationService service, List<QueueClient> control, QueueClient work, Func<bool> finished, CancellationToken ct)
    {
        while (!finished() && !ct.IsCancellationRequested)
        {
            var busy = false;
            foreach (var queue in control.Append(work))
            {
                foreach (var message in (await queue.ReceiveMessagesAsync(32, TimeSpan.FromSeconds(10), ct)).Value)
                {
                    busy = true;
                    try
                    {
                        if (queue == work)
                        {
                            await service.ProcessWorkItemAsync(message.Body.ToString(), ct);
                        }
                        else
                        {
                            await service.ProcessControlMessageAsync(message.Body.ToString(), ct);
                        }

                        await queue.DeleteMessageIfExistsAsync(message.MessageId, message.PopReceipt, ct);
                    }
                    catch (Azure.RequestFailedException ex) when (LeaseLost(ex))
                    {
                        // The step outlasted the visibility timeout; another dispatcher has the message now (or is done with it).
                    }
                    catch (DurableConcurrencyException)
                    {
                        // Another dispatcher moved the instance first; this message returns shortly.
                        try
                        {
                            await queue.UpdateVisibilityAsync(message.MessageId, message.PopReceipt, TimeSpan.FromMilliseconds(200), ct);
                        }
                        catch (Azure.RequestFailedException ex) when (LeaseLost(ex))
                        {
                            // Already back on the queue and taken by another dispatcher.
                        }
                    }
                }
            }

            if (!busy)
            {
                await Task.Delay(20, ct);
            }
        }
    }
}

/// <summary>One durable measurement.</summary>
internal sealed record DurableResult(int Activities, int Instances, double Seconds, double ActivitiesPerSecond, double InstancesPerSecond, bool AllCompleted);
