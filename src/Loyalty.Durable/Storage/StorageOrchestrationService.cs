using System.Globalization;
using System.Text;
using System.Text.Json;
using Loyalty.Durable.History;
using Loyalty.Durable.Model;
using Loyalty.Durable.Replay;

namespace Loyalty.Durable.Storage;

/// <summary>A message on a control queue: one history event for one instance (and for timers, when it is due).</summary>
public sealed record ControlMessage(string InstanceId, string? ExecutionId, HistoryEvent Event, DateTimeOffset? FireAt = null);

/// <summary>A message on the work-item queue: one activity call.</summary>
public sealed record WorkItemMessage(string InstanceId, string ExecutionId, int TaskId, string Name, string? Input);

/// <summary>A message a step decided to send: the queue ("work" or "control"), its body and its delay.</summary>
internal sealed record OutboxMessage(string Queue, string Body, long DelayMs);

/// <summary>Settings of the storage backend.</summary>
/// <param name="ControlQueueCount">Control queues (instances are spread by a stable hash of their id).</param>
/// <param name="MaxMessageDelay">Longest visibility delay used (the service's limit is 7 days; timers further away re-enqueue).</param>
public sealed record StorageBackendOptions(int ControlQueueCount = 4, TimeSpan? MaxMessageDelay = null)
{
    /// <summary>The delay cap in effect.</summary>
    public TimeSpan DelayCap => MaxMessageDelay ?? TimeSpan.FromDays(6.5);
}

/// <summary>
/// The runtime on Azure Table and Queue storage. An instance is a partition: a header row (status, input, output,
/// custom status, execution id, committed history length) whose ETag guards every checkpoint, history rows, and outbox
/// rows. A step reads header and history, executes, and checkpoints history + outbox + header in one transaction (a
/// step's events and messages are packed into a few rows, and outbox keys are never shared by two steps); then the
/// outbox is dispatched and deleted, and only then is the triggering message acknowledged. A crash anywhere
/// is repaired by redelivery: completions and events are de-duplicated, outbox dispatch repeats, activities run at
/// least once.
/// </summary>
public sealed class StorageOrchestrationService(
    IInstanceTable table,
    IReadOnlyList<IMessageChannel> controlQueues,
    IMessageChannel workQueue,
    OrchestrationRegistry registry,
    TimeProvider clock,
    StorageBackendOptions? options = null) : IOrchestrationClient
{
    private const string Header = "header";
    private const int MaxTransactionRows = 100;

    // Outbox messages sent at once by one step (a fan-out's work items).
    private const int SendConcurrency = 16;

    // A string property holds up to 32K UTF-16 characters; a packed history or outbox row stays below that.
    private const int MaxRowChars = 30_000;
    private readonly StorageBackendOptions _options = options ?? new StorageBackendOptions();
    private static JsonSerializerOptions Json => OrchestrationExecutor.Json;

    /// <summary>The control queue of an instance: a stable hash, the same in every process.</summary>
    public int PartitionOf(string instanceId)
    {
        ArgumentNullException.ThrowIfNull(instanceId);
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(instanceId))
        {
            hash = (hash ^ b) * 16777619u;
        }

        return (int)(hash % (uint)controlQueues.Count);
    }

    /// <inheritdoc />
    public async Task<string> StartAsync(string name, object? input, string? instanceId = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var id = instanceId ?? Guid.NewGuid().ToString("N");
        var existing = await table.GetAsync(id, Header, cancellationToken);
        var inputJson = input is null ? null : JsonSerializer.Serialize(input, Json);
        if (existing is not null && Status(existing) is RuntimeStatus.Running)
        {
            return id;
        }

        string executionId;
        if (existing is not null && Status(existing) is RuntimeStatus.Pending)
        {
            // Started before but perhaps never dispatched (a crash after the header): sending the start again is safe.
            executionId = existing.Values["ExecutionId"];
            inputJson = existing.Values.GetValueOrDefault("Input");
        }
        else
        {
            executionId = Guid.NewGuid().ToString("N");
            var now = clock.GetUtcNow();
            var header = new DurableRow(Header, new Dictionary<string, string>
            {
                ["Name"] = name,
                ["Status"] = nameof(RuntimeStatus.Pending),
                ["ExecutionId"] = executionId,
                ["HistoryCount"] = "0",
                ["CreatedAt"] = now.ToString("O", CultureInfo.InvariantCulture),
                ["LastUpdatedAt"] = now.ToString("O", CultureInfo.InvariantCulture),
            }.WithOptional("Input", inputJson), existing?.ETag);
            if (!await table.TransactAsync(id, [], [], header, cancellationToken))
            {
                return id;
            }
        }

        await SendControlAsync(new ControlMessage(id, executionId, new ExecutionStarted(clock.GetUtcNow(), name, inputJson, executionId)), TimeSpan.Zero, cancellationToken);
        return id;
    }

    /// <inheritdoc />
    public async Task<OrchestrationState?> GetAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        var row = await table.GetAsync(instanceId, Header, cancellationToken);
        return row is null ? null : State(instanceId, row);
    }

    /// <inheritdoc />
    public Task RaiseEventAsync(string instanceId, string eventName, object? payload, string? eventId = null, CancellationToken cancellationToken = default)
    {
        var json = payload is null ? null : JsonSerializer.Serialize(payload, Json);
        return SendControlAsync(new ControlMessage(instanceId, null, new EventRaised(clock.GetUtcNow(), eventName, json, eventId ?? Guid.NewGuid().ToString("N"))), TimeSpan.Zero, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<bool> TerminateAsync(string instanceId, string reason, CancellationToken cancellationToken = default)
    {
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var row = await table.GetAsync(instanceId, Header, cancellationToken);
            if (row is null || Status(row) is not (RuntimeStatus.Pending or RuntimeStatus.Running))
            {
                return false;
            }

            var values = new Dictionary<string, string>(row.Values)
            {
                ["Status"] = nameof(RuntimeStatus.Terminated),
                ["Output"] = JsonSerializer.Serialize(reason, Json),
                ["LastUpdatedAt"] = clock.GetUtcNow().ToString("O", CultureInfo.InvariantCulture),
            };
            if (await table.TransactAsync(instanceId, [], [], row with { Values = values }, cancellationToken))
            {
                return true;
            }
        }

        throw new InvalidOperationException($"Instance {instanceId} kept changing while being terminated.");
    }

    /// <inheritdoc />
    public async Task<bool> PurgeAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        if (await table.GetAsync(instanceId, Header, cancellationToken) is null)
        {
            return false;
        }

        await table.DeletePartitionAsync(instanceId, cancellationToken);
        return true;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<OrchestrationState>> ListAsync(string? name = null, RuntimeStatus? status = null, CancellationToken cancellationToken = default)
    {
        var headers = await table.QueryAllAsync(Header, cancellationToken);
        return [.. headers.Select(h => State(h.InstanceId, h.Row)).Where(s => (name is null || s.Name == name) && (status is null || s.Status == status))];
    }

    /// <summary>
    /// Handles one control-queue message. Returns false when nothing changed (dropped duplicate, a timer not yet due
    /// re-enqueued, an event waiting for its instance), true after a checkpoint. Throws when the step must be retried
    /// (another dispatcher checkpointed first): the caller leaves the message to be delivered again.
    /// </summary>
    public async Task<bool> ProcessControlMessageAsync(string body, CancellationToken cancellationToken = default)
    {
        var message = JsonSerializer.Deserialize<ControlMessage>(body, Json) ?? throw new InvalidDataException("Empty control message.");
        var id = message.InstanceId;
        var header = await table.GetAsync(id, Header, cancellationToken);
        if (header is null || Status(header) is RuntimeStatus.Completed or RuntimeStatus.Failed or RuntimeStatus.Terminated)
        {
            return false;
        }

        var executionId = header.Values["ExecutionId"];
        if (message.ExecutionId is not null && message.ExecutionId != executionId)
        {
            // A message of an earlier execution, perhaps redelivered because its dispatcher died before sending what its
            // step decided (the next execution's start among it).
            await DispatchOutboxAsync(id, cancellationToken);
            return false;
        }

        var now = clock.GetUtcNow();
        if (message.FireAt is { } due && due > now)
        {
            await SendControlAsync(message, Min(due - now, _options.DelayCap), cancellationToken);
            return false;
        }

        var count = int.Parse(header.Values["HistoryCount"], CultureInfo.InvariantCulture);
        var history = await ReadHistoryAsync(id, executionId, count, cancellationToken);
        var incoming = message.Event is TimerFired t ? t with { At = now } : message.Event;
        if (IsDuplicate(history, incoming) || (incoming is EventRaised raised && await table.GetAsync(id, "e-" + raised.EventId, cancellationToken) is not null))
        {
            // A message whose step was committed: when it is a redelivery, the dispatcher that committed the step may
            // have died before sending the outbox, so whatever is still in it goes out now.
            await DispatchOutboxAsync(id, cancellationToken);
            return false;
        }

        if (history.Count == 0 && incoming is not ExecutionStarted)
        {
            // An event for an instance whose start has not been processed yet: try again shortly.
            await SendControlAsync(message, Min(TimeSpan.FromSeconds(1), _options.DelayCap), cancellationToken);
            return false;
        }

        // The step sends only what it committed itself. Another step's outbox is its own dispatcher's to send: re-sending
        // it here would run a fan-out's activities again for every completion that arrives while it is being sent.
        var result = OrchestrationExecutor.Execute(registry.Orchestrator(header.Values["Name"]), id, history, [incoming]);
        var (messages, keys) = await CheckpointAsync(id, header, executionId, count, result, incoming, now, cancellationToken);
        await SendAndDeleteAsync(id, messages, keys, cancellationToken);
        return true;
    }

    /// <summary>
    /// Puts a control message back on its queue after a delay. Hosts call this when a step lost the checkpoint race,
    /// so that contention on a busy instance never counts toward the poison threshold.
    /// </summary>
    public Task RequeueAsync(string body, TimeSpan delay, CancellationToken cancellationToken = default)
    {
        var message = JsonSerializer.Deserialize<ControlMessage>(body, Json) ?? throw new InvalidDataException("Empty control message.");
        return SendControlAsync(message, delay, cancellationToken);
    }

    /// <summary>Handles one work item: runs the activity and reports the result to the instance.</summary>
    public async Task ProcessWorkItemAsync(string body, CancellationToken cancellationToken = default)
    {
        var item = JsonSerializer.Deserialize<WorkItemMessage>(body, Json) ?? throw new InvalidDataException("Empty work item.");
        HistoryEvent result;
        var activity = registry.Activity(item.Name);
        try
        {
            if (activity is null)
            {
                throw new InvalidOperationException($"No activity '{item.Name}' is registered.");
            }

            var input = item.Input is null ? null : JsonSerializer.Deserialize(item.Input, activity.InputType, Json);
            var output = await activity.RunAsync(new TaskActivityContext(item.InstanceId, item.TaskId, item.Name), input);
            result = new TaskCompleted(clock.GetUtcNow(), item.TaskId, output is null ? null : JsonSerializer.Serialize(output, output.GetType(), Json));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            result = new TaskFailed(clock.GetUtcNow(), item.TaskId, ex.Message);
        }

        await SendControlAsync(new ControlMessage(item.InstanceId, item.ExecutionId, result), TimeSpan.Zero, cancellationToken);
    }

    /// <summary>The history of an instance's current execution (committed rows only).</summary>
    public async Task<IReadOnlyList<HistoryEvent>> HistoryAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        var header = await table.GetAsync(instanceId, Header, cancellationToken) ?? throw new InvalidOperationException("Unknown instance.");
        return await ReadHistoryAsync(instanceId, header.Values["ExecutionId"], int.Parse(header.Values["HistoryCount"], CultureInfo.InvariantCulture), cancellationToken);
    }

    /// <summary>
    /// The first <paramref name="count"/> events of an execution's history. A row is keyed by the position of its first
    /// event and holds a step's events as a JSON array (<c>Events</c>; rows of earlier versions hold one, <c>Event</c>).
    /// </summary>
    private async Task<List<HistoryEvent>> ReadHistoryAsync(string id, string executionId, int count, CancellationToken ct)
    {
        var prefix = $"h-{executionId}-";
        var events = new List<HistoryEvent>(count);
        foreach (var row in await table.QueryAsync(id, prefix, ct))
        {
            if (events.Count >= count)
            {
                break;
            }

            var first = int.Parse(row.RowKey.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture);
            if (first != events.Count)
            {
                throw new InvalidDataException($"The history of {id} has no row at position {events.Count} (found {row.RowKey}).");
            }

            var rowEvents = row.Values.TryGetValue("Events", out var packed)
                ? JsonSerializer.Deserialize<List<HistoryEvent>>(packed, Json) ?? []
                : [JsonSerializer.Deserialize<HistoryEvent>(row.Values["Event"], Json)!];
            events.AddRange(rowEvents.Take(count - events.Count));
        }

        if (events.Count < count)
        {
            throw new InvalidDataException($"The history of {id} has {events.Count} events where its header counts {count}.");
        }

        return events;
    }

    private async Task<(List<OutboxMessage> Messages, List<string> OutboxKeys)> CheckpointAsync(
        string id, DurableRow header, string executionId, int count, EpisodeResult result, HistoryEvent incoming, DateTimeOffset now, CancellationToken ct)
    {
        var seq = count + result.NewHistory.Count;
        var messages = new List<OutboxMessage>();
        foreach (var action in result.Actions)
        {
            messages.Add(action switch
            {
                ScheduleTaskAction task => new OutboxMessage("work", JsonSerializer.Serialize(new WorkItemMessage(id, executionId, task.TaskId, task.Name, task.Input), Json), 0),
                CreateTimerAction timer => new OutboxMessage("control", JsonSerializer.Serialize(new ControlMessage(id, executionId, new TimerFired(timer.FireAt, timer.TaskId), timer.FireAt), Json), DelayMs(Min(timer.FireAt - now, _options.DelayCap))),
                _ => throw new InvalidOperationException($"Unknown action {action}"),
            });
        }

        var values = new Dictionary<string, string>(header.Values)
        {
            ["Status"] = nameof(RuntimeStatus.Running),
            ["HistoryCount"] = seq.ToString(CultureInfo.InvariantCulture),
            ["LastUpdatedAt"] = now.ToString("O", CultureInfo.InvariantCulture),
        };
        values.Remove("CustomStatus");
        if (result.CustomStatus is not null)
        {
            values["CustomStatus"] = result.CustomStatus;
        }

        switch (result.Outcome)
        {
            case CompletedOutcome done:
                values["Status"] = nameof(RuntimeStatus.Completed);
                values.SetOptional("Output", done.Output);
                break;
            case FailedOutcome failed:
                values["Status"] = nameof(RuntimeStatus.Failed);
                values["Output"] = JsonSerializer.Serialize(failed.Error, Json);
                break;
            case ContinuedAsNewOutcome next:
                // A new execution with an empty history; its start goes out through the outbox like any message.
                var nextExecution = Guid.NewGuid().ToString("N");
                values["ExecutionId"] = nextExecution;
                values["HistoryCount"] = "0";
                values.SetOptional("Input", next.Input);
                messages.Add(new OutboxMessage("control", JsonSerializer.Serialize(new ControlMessage(id, nextExecution, new ExecutionStarted(now, header.Values["Name"], next.Input, nextExecution)), Json), 0));
                break;
            default:
                break;
        }

        // Everything a step writes commits in one transaction with the header, nothing ahead of it. History rows written
        // ahead could land after another dispatcher had committed the same positions, and overwrite its events. The
        // outbox keys carry the history length the step started from, which no other step of this execution shares,
        // so a dispatcher still deleting an earlier step's rows can never delete this step's.
        var committed = new List<DurableRow>();
        foreach (var (first, events) in Pack(result.NewHistory.Select(e => JsonSerializer.Serialize(e, Json))))
        {
            committed.Add(new DurableRow($"h-{executionId}-{count + first:D8}", new Dictionary<string, string> { ["Events"] = events }));
        }

        var outboxKeys = new List<string>();
        foreach (var (n, (_, batch)) in Pack(messages.Select(m => JsonSerializer.Serialize(m, Json))).Index())
        {
            outboxKeys.Add($"o-{executionId}-{count:D8}-{n:D4}");
            committed.Add(new DurableRow(outboxKeys[^1], new Dictionary<string, string> { ["Messages"] = batch }));
        }

        if (incoming is EventRaised raised)
        {
            committed.Add(new DurableRow("e-" + raised.EventId, new Dictionary<string, string> { ["At"] = now.ToString("O", CultureInfo.InvariantCulture) }));
        }

        if (committed.Count + 1 > MaxTransactionRows)
        {
            throw new InvalidOperationException(
                $"A step of {id} needs more rows than one checkpoint holds ({result.NewHistory.Count} events, {messages.Count} messages); fan out in smaller windows.");
        }

        if (!await table.TransactAsync(id, committed, [], header with { Values = values }, ct))
        {
            throw new DurableConcurrencyException($"Instance {id} was checkpointed by another dispatcher; the message will be retried.");
        }

        return (messages, outboxKeys);
    }

    /// <summary>
    /// Packs JSON values into JSON arrays that each fit one string property, in order, with the index of each array's
    /// first value: a step's history and its outbox then take a few rows, so any fan-out commits in one transaction.
    /// </summary>
    private static List<(int First, string Array)> Pack(IEnumerable<string> values)
    {
        var arrays = new List<(int, string)>();
        var pending = new List<string>();
        var size = 2;
        var first = 0;
        var index = 0;
        foreach (var json in values)
        {
            if (pending.Count > 0 && size + json.Length + 1 > MaxRowChars)
            {
                arrays.Add((first, "[" + string.Join(',', pending) + "]"));
                (pending, size, first) = ([], 2, index);
            }

            pending.Add(json);
            size += json.Length + 1;
            index++;
        }

        if (pending.Count > 0)
        {
            arrays.Add((first, "[" + string.Join(',', pending) + "]"));
        }

        return arrays;
    }

    /// <summary>Sends whatever any step left in the instance's outbox, then deletes those rows.</summary>
    private async Task DispatchOutboxAsync(string id, CancellationToken ct)
    {
        var pending = await table.QueryAsync(id, "o-", ct);
        var messages = pending.SelectMany(r => JsonSerializer.Deserialize<List<OutboxMessage>>(r.Values["Messages"], Json) ?? []).ToList();
        await SendAndDeleteAsync(id, messages, [.. pending.Select(r => r.RowKey)], ct);
    }

    /// <summary>
    /// Sends outbox messages (several at once: their order does not matter), then deletes the rows they came from, by
    /// key: only rows that were read and sent are ever deleted.
    /// </summary>
    private async Task SendAndDeleteAsync(string id, IReadOnlyList<OutboxMessage> messages, IReadOnlyList<string> keys, CancellationToken ct)
    {
        var control = controlQueues[PartitionOf(id)];
        await Parallel.ForEachAsync(messages, new ParallelOptions { MaxDegreeOfParallelism = SendConcurrency, CancellationToken = ct }, async (message, token) =>
            await (message.Queue == "work" ? workQueue : control).SendAsync(message.Body, TimeSpan.FromMilliseconds(message.DelayMs), token));
        foreach (var chunk in keys.Chunk(MaxTransactionRows))
        {
            await table.TransactAsync(id, [], chunk, null, ct);
        }
    }

    private static long DelayMs(TimeSpan delay) => (long)Math.Max(0, delay.TotalMilliseconds);

    private Task SendControlAsync(ControlMessage message, TimeSpan delay, CancellationToken ct) =>
        controlQueues[PartitionOf(message.InstanceId)].SendAsync(JsonSerializer.Serialize(message, Json), delay, ct);

    private static bool IsDuplicate(List<HistoryEvent> history, HistoryEvent incoming) => incoming switch
    {
        ExecutionStarted => history.Count > 0,
        TaskCompleted c => history.Any(e => e is TaskCompleted p && p.TaskId == c.TaskId || e is TaskFailed f && f.TaskId == c.TaskId),
        TaskFailed c => history.Any(e => e is TaskCompleted p && p.TaskId == c.TaskId || e is TaskFailed f && f.TaskId == c.TaskId),
        TimerFired t => history.Any(e => e is TimerFired p && p.TaskId == t.TaskId),
        _ => false,
    };

    private static RuntimeStatus Status(DurableRow header) => Enum.Parse<RuntimeStatus>(header.Values["Status"]);

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static OrchestrationState State(string id, DurableRow row) => new(
        id,
        row.Values["Name"],
        Status(row),
        row.Values.GetValueOrDefault("Input"),
        row.Values.GetValueOrDefault("Output"),
        row.Values.GetValueOrDefault("CustomStatus"),
        DateTimeOffset.Parse(row.Values["CreatedAt"], CultureInfo.InvariantCulture),
        DateTimeOffset.Parse(row.Values["LastUpdatedAt"], CultureInfo.InvariantCulture),
        row.Values["ExecutionId"]);
}

/// <summary>Another dispatcher checkpointed the instance first; the message must be processed again.</summary>
public sealed class DurableConcurrencyException(string message) : Exception(message);

internal static class DictionaryExtensions
{
    public static Dictionary<string, string> WithOptional(this Dictionary<string, string> values, string key, string? value)
    {
        values.SetOptional(key, value);
        return values;
    }

    public static void SetOptional(this Dictionary<string, string> values, string key, string? value)
    {
        if (value is null)
        {
            values.Remove(key);
        }
        else
        {
            values[key] = value;
        }
    }
}
