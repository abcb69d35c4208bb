using System.Diagnostics;
using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Queues;

namespace Loyalty.Bench;

/// <summary>
/// The storage bound of the durable phase: the Azure Storage round trips that DTFx's provider makes for one activity
/// of a sequential chain, sent straight to the same Azurite in the same order with no engine, host or worker in
/// between. Read off the provider's own trace (DurableTask.AzureStorage at Information) for one step:
/// <list type="number">
/// <item>the orchestration episode: read the control message (GetMessages), read the instance's history (one
/// partition query), send the activity's message to the work-item queue, append the episode's rows to the history
/// (one entity-group transaction), update the instance row, delete the control message;</item>
/// <item>the activity: read its message from the work-item queue, send the result to the control queue, delete the
/// work-item message.</item>
/// </list>
/// Ten requests, of which four must wait for the one before (read the control message, read the history, then the
/// episode's writes at once; read the work item, then its two writes at once). It is a model of the provider's
/// requests, not a ceiling: the provider overlaps more than this, and the app has beaten it in some runs. The measured
/// ceiling for a host is <see cref="DurableEngineBound"/>, the provider alone.
/// The fan-out bound is the same requests for one activity each, <c>width</c> activities with the app's activity
/// concurrency in flight, and the episodes that take their results (32 results per episode, as the provider reads
/// control messages 32 at a time).
/// </summary>
internal static class DurableStorageBound
{
    /// <summary>Steps per second of the sequential chain's storage requests, over <paramref name="steps"/> steps.</summary>
    public static async Task<double> SequentialAsync(string connectionString, int steps)
    {
        var hub = await Hub.CreateAsync(connectionString);
        try
        {
            var watch = Stopwatch.StartNew();
            var instance = Guid.NewGuid().ToString("N");
            await hub.SendAsync(hub.Control, instance, 0);
            for (var step = 0; step < steps; step++)
            {
                await hub.EpisodeAsync(instance, 1, activities: 1);
                await hub.ActivityAsync(instance);
            }

            return steps / watch.Elapsed.TotalSeconds;
        }
        finally
        {
            await hub.DeleteAsync();
        }
    }

    /// <summary>Activities per second of a fan-out of <paramref name="width"/> with <paramref name="concurrency"/> activities in flight.</summary>
    public static async Task<double> FanOutAsync(string connectionString, int width, int concurrency)
    {
        var hub = await Hub.CreateAsync(connectionString);
        try
        {
            var watch = Stopwatch.StartNew();
            var instance = Guid.NewGuid().ToString("N");
            await hub.SendAsync(hub.Control, instance, 0);
            await hub.EpisodeAsync(instance, 1, activities: width);
            var answered = 0;
            var activities = Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
            {
                while (Interlocked.Increment(ref answered) <= width)
                {
                    await hub.ActivityAsync(instance);
                }
            }));
            var taken = 0;
            while (taken < width)
            {
                taken += await hub.EpisodeAsync(instance, 32, activities: 0);
            }

            await activities;
            return width / watch.Elapsed.TotalSeconds;
        }
        finally
        {
            await hub.DeleteAsync();
        }
    }

    private sealed class Hub(TableClient history, TableClient instances, QueueClient control, QueueClient workItems)
    {
        private readonly string _payload = new('x', 600);
        private long _sequence;

        public QueueClient Control => control;

        public static async Task<Hub> CreateAsync(string connectionString)
        {
            var name = "bound" + Guid.NewGuid().ToString("N")[..10];
            var tables = new TableServiceClient(connectionString);
            var queues = new QueueServiceClient(connectionString);
            var hub = new Hub(tables.GetTableClient(name + "History"), tables.GetTableClient(name + "Instances"), queues.GetQueueClient(name + "-control-00"), queues.GetQueueClient(name + "-workitems"));
            await Task.WhenAll(hub.Tables.Select(t => t.CreateIfNotExistsAsync()).Concat<Task>(hub.Queues.Select(q => q.CreateIfNotExistsAsync())));
            return hub;
        }

        private TableClient[] Tables => [history, instances];

        private QueueClient[] Queues => [control, workItems];

        public Task DeleteAsync() => Task.WhenAll(Tables.Select(t => t.DeleteAsync()).Concat<Task>(Queues.Select(q => q.DeleteIfExistsAsync())));

        public Task SendAsync(QueueClient queue, string instance, int taskId) =>
            queue.SendMessageAsync($"{{\"instance\":\"{instance}\",\"task\":{taskId},\"payload\":\"{_payload}\"}}");

        /// <summary>One orchestration episode: takes up to <paramref name="batch"/> control messages, schedules <paramref name="activities"/>; returns how many it took.</summary>
        public async Task<int> EpisodeAsync(string instance, int batch, int activities)
        {
            var messages = (await control.ReceiveMessagesAsync(batch, TimeSpan.FromMinutes(1))).Value;
            if (messages.Length == 0)
            {
                await Task.Delay(10);
                return 0;
            }

            await foreach (var _ in history.QueryAsync<TableEntity>(e => e.PartitionKey == instance))
            {
                // The provider reads the whole history to replay it.
            }

            // What the episode writes does not depend on each other: sent at once, the most overlap storage allows.
            var rows = Enumerable.Range(0, 2 + activities + messages.Length)
                .Select(_ => new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(instance, Interlocked.Increment(ref _sequence).ToString("D16", CultureInfo.InvariantCulture)) { ["EventType"] = "TaskScheduled", ["Input"] = _payload }))
                .Chunk(100);
            await Task.WhenAll(
                Enumerable.Range(0, activities).Select(i => SendAsync(workItems, instance, i))
                    .Concat(rows.Select(chunk => (Task)history.SubmitTransactionAsync(chunk)))
                    .Append(instances.UpsertEntityAsync(new TableEntity(instance, string.Empty) { ["RuntimeStatus"] = "Running", ["LastUpdatedTime"] = DateTimeOffset.UtcNow }, TableUpdateMode.Replace))
                    .Concat(messages.Select(m => (Task)control.DeleteMessageAsync(m.MessageId, m.PopReceipt))));
            return messages.Length;
        }

        /// <summary>One activity: takes its work item, answers to the control queue, deletes the work item.</summary>
        public async Task ActivityAsync(string instance)
        {
            while (true)
            {
                var message = (await workItems.ReceiveMessageAsync(TimeSpan.FromMinutes(1))).Value;
                if (message is null)
                {
                    await Task.Delay(10);
                    continue;
                }

                await Task.WhenAll(SendAsync(control, instance, 1), workItems.DeleteMessageAsync(message.MessageId, message.PopReceipt));
                return;
            }
        }
    }
}
