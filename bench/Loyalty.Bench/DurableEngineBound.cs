using System.Diagnostics;
using DurableTask.AzureStorage;
using DurableTask.Core;
using Microsoft.Extensions.Logging.Abstractions;

namespace Loyalty.Bench;

/// <summary>
/// The engine bound of the durable phase: the same two single-instance workloads run by the Durable Task Framework
/// alone, on its Azure Storage provider on the same Azurite, with the orchestration and the activity as in-process DTFx
/// classes. No Durable Task gRPC server, no local host and no isolated worker are in between, and the settings are the
/// benchmark app's host.json (polling at most 1 s, 20 activities and 10 orchestration episodes at once, 4 partitions).
/// What the app reaches over what this reaches is the share the host and the worker cost; what this reaches is the
/// most any host could get from the provider on this storage.
/// </summary>
internal static class DurableEngineBound
{
    /// <summary>Activities per second of one instance calling <paramref name="steps"/> activities in sequence, and of one fanning out to <paramref name="width"/>.</summary>
    public static async Task<(double Sequential, double FanOut)> MeasureAsync(string connectionString, int steps, int width)
    {
        var settings = new AzureStorageOrchestrationServiceSettings
        {
            StorageAccountClientProvider = new StorageAccountClientProvider(connectionString),
            TaskHubName = "engine" + Guid.NewGuid().ToString("N")[..10],
            PartitionCount = 4,
            MaxQueuePollingInterval = TimeSpan.FromSeconds(1),
            MaxConcurrentTaskActivityWorkItems = 20,
            MaxConcurrentTaskOrchestrationWorkItems = 10,
            LoggerFactory = NullLoggerFactory.Instance,
        };
        var service = new AzureStorageOrchestrationService(settings);
        TaskHubWorker? worker = null;
        try
        {
            await service.CreateIfNotExistsAsync();
            worker = new TaskHubWorker(service, NullLoggerFactory.Instance);
            worker.AddTaskOrchestrations(typeof(Sequence), typeof(FanOut));
            worker.AddTaskActivities(typeof(AddOne));
            await worker.StartAsync();
            var client = new TaskHubClient(service, loggerFactory: NullLoggerFactory.Instance);

            // Measured as the app's workloads are: a small instance of each, one cold run of each, then the median of
            // DurableBench.SteadyRuns runs.
            await RunAsync(client, typeof(Sequence), 2);
            await RunAsync(client, typeof(FanOut), 4);
            await RunAsync(client, typeof(Sequence), steps);
            await RunAsync(client, typeof(FanOut), width);
            var sequential = new List<double>();
            var fanOut = new List<double>();
            for (var run = 0; run < DurableBench.SteadyRuns; run++)
            {
                sequential.Add(steps / await RunAsync(client, typeof(Sequence), steps));
                fanOut.Add(width / await RunAsync(client, typeof(FanOut), width));
            }

            static string Runs(IEnumerable<double> rates) => string.Join(", ", rates.Select(r => r.ToString("F1", System.Globalization.CultureInfo.InvariantCulture)));
            Console.WriteLine($"durable: the provider alone, runs: sequential {Runs(sequential)}; fan-out {Runs(fanOut)}");
            return (sequential.Order().ElementAt(sequential.Count / 2), fanOut.Order().ElementAt(fanOut.Count / 2));
        }
        finally
        {
            // Stopped and deleted whatever happened above, each step on its own, so a failed stop still deletes the hub.
            try
            {
                if (worker is not null)
                {
                    await worker.StopAsync(isForced: true);
                }
            }
            finally
            {
                await service.DeleteAsync();
            }
        }
    }

    // Seconds from the start request to the instance seen completed, polled every 100 ms as the app's workloads are
    // (the client's own wait polls every 2 s).
    private static async Task<double> RunAsync(TaskHubClient client, Type orchestration, int size)
    {
        var watch = Stopwatch.StartNew();
        var instance = await client.CreateOrchestrationInstanceAsync(orchestration, size);
        while (true)
        {
            var state = await client.GetOrchestrationStateAsync(instance);
            switch (state?.OrchestrationStatus)
            {
                case OrchestrationStatus.Completed:
                    return watch.Elapsed.TotalSeconds;
                case OrchestrationStatus.Failed or OrchestrationStatus.Terminated or OrchestrationStatus.Canceled:
                    throw new InvalidOperationException($"The engine-only {orchestration.Name} of {size} ended {state.OrchestrationStatus}.");
            }

            if (watch.Elapsed > TimeSpan.FromMinutes(10))
            {
                throw new TimeoutException($"The engine-only {orchestration.Name} of {size} did not finish in 10 minutes.");
            }

            await Task.Delay(100);
        }
    }

    private sealed class Sequence : TaskOrchestration<int, int>
    {
        public override async Task<int> RunTask(OrchestrationContext context, int input)
        {
            var value = 0;
            for (var step = 0; step < input; step++)
            {
                value = await context.ScheduleTask<int>(typeof(AddOne), value);
            }

            return value;
        }
    }

    private sealed class FanOut : TaskOrchestration<int, int>
    {
        public override async Task<int> RunTask(OrchestrationContext context, int input)
        {
            var results = await Task.WhenAll(Enumerable.Range(0, input).Select(i => context.ScheduleTask<int>(typeof(AddOne), i)));
            return results.Sum();
        }
    }

    private sealed class AddOne : TaskActivity<int, int>
    {
        protected override int Execute(TaskContext context, int input) => input + 1;
    }
}
