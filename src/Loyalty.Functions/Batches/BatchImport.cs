using System.Globalization;
using Loyalty.Functions.Durable;
using Loyalty.Functions.Hosting;
using Loyalty.Storage.Org;
using Loyalty.Storage.Schema;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Batches;

/// <summary>Input of <see cref="BatchImport"/>: the batch (its record holds the rest).</summary>
internal sealed record BatchStart(string BatchId);

/// <summary>A batch's file, staged: how many chunks of valid rows, and how many rows failed the checks at staging.</summary>
internal sealed record StagedBatch(BatchKind Kind, int Rows, int Chunks, int Failed);

/// <summary>One chunk to apply, from its row <paramref name="From"/> (0-based within the chunk).</summary>
internal sealed record BatchChunk(string BatchId, BatchKind Kind, int Chunk, int From = 0);

/// <summary>What a call did with its chunk; <paramref name="Next"/> is where the chunk goes on when the call ran out of time.</summary>
internal sealed record ChunkResult(int Applied, int Failed, int? Next = null);

/// <summary>Progress, in the custom status while it runs and as the output at the end.</summary>
internal sealed record BatchProgress(string BatchId, int Rows, int Done, int Failed, int Remaining, bool Cancelled);

/// <summary>Input of <see cref="FinishBatch"/>.</summary>
internal sealed record BatchOutcome(string BatchId, int Applied, int Failed, bool Cancelled);

/// <summary>
/// An HQ batch as a durable orchestration: stage the file into chunks of <see cref="BatchImport.ChunkSize"/> checked
/// rows, then apply the chunks <see cref="BatchImport.Parallel"/> at a time (fan-out/fan-in), with the rows done,
/// failed and remaining in the custom status after each wave. A call works on its chunk for at most
/// <see cref="ApplyBatchChunk.TimeBox"/> and says where to go on; the rest of the chunk joins a later wave, so no call
/// outlives the work-item queue's visibility timeout (after which the engine would hand the same chunk out again). A <c>cancel</c> event stops it between waves: the rows
/// applied stay. Every row is applied through keys derived from (batch, row), so retried activities, a worker killed
/// mid-chunk or the instance started again apply nothing twice. Before each wave after the first it asks
/// <see cref="MeasureBatchBacklog"/> whether the app's own queues are behind and, while they are, pauses
/// <see cref="BacklogPause"/> at a time (for at most <see cref="MaxBacklogWait"/> a wave).
/// </summary>
internal static class BatchImport
{
    public const string Name = "BatchImport";
    public const string CancelEvent = "cancel";
    public const int ChunkSize = 500;
    private const int Parallel = 4;

    /// <summary>How long a wave waits before it asks again whether the queues have caught up.</summary>
    public static readonly TimeSpan BacklogPause = TimeSpan.FromSeconds(5);

    /// <summary>The longest a wave waits for them (should the functions that drain them be stopped, the batch goes on).</summary>
    public static readonly TimeSpan MaxBacklogWait = TimeSpan.FromMinutes(5);

    [Function(Name)]
    public static Task<BatchProgress> Run([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return RunAsync(context, context.GetInput<BatchStart>()!);
    }

    public static async Task<BatchProgress> RunAsync(TaskOrchestrationContext context, BatchStart input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var staged = await context.CallActivityAsync<StagedBatch>(StageBatch.Name, input, Activities.Retry);
        var cancel = context.WaitForExternalEvent<string?>(CancelEvent);
        int applied = 0, failed = staged.Failed;
        var cancelled = false;
        var waves = 0;
        BatchProgress Progress() => new(input.BatchId, staged.Rows, applied, failed, Math.Max(0, staged.Rows - applied - failed), cancelled);
        context.SetCustomStatus(Progress());
        var pending = new Queue<BatchChunk>(Enumerable.Range(0, staged.Chunks).Select(n => new BatchChunk(input.BatchId, staged.Kind, n)));
        while (pending.Count > 0)
        {
            if (cancel.IsCompleted)
            {
                cancelled = true;
                break;
            }

            if (waves++ > 0)
            {
                var waited = TimeSpan.Zero;
                while (waited < MaxBacklogWait && !cancel.IsCompleted && await context.CallActivityAsync<bool>(MeasureBatchBacklog.Name, input.BatchId, Activities.Retry))
                {
                    await context.CreateTimer(context.CurrentUtcDateTime.Add(BacklogPause), CancellationToken.None);
                    waited += BacklogPause;
                }
            }

            var wave = new List<BatchChunk>();
            while (wave.Count < Parallel && pending.Count > 0)
            {
                wave.Add(pending.Dequeue());
            }

            var results = await Task.WhenAll(wave.Select(c => context.CallActivityAsync<ChunkResult>(ApplyBatchChunk.Name, c, Activities.Retry)));
            for (var i = 0; i < wave.Count; i++)
            {
                applied += results[i].Applied;
                failed += results[i].Failed;
                if (results[i].Next is { } next)
                {
                    pending.Enqueue(wave[i] with { From = next });
                }
            }

            context.SetCustomStatus(Progress());
        }

        cancelled |= cancel.IsCompleted && applied + failed < staged.Rows;
        await context.CallActivityAsync(FinishBatch.Name, new BatchOutcome(input.BatchId, applied, failed, cancelled), Activities.Retry);
        var final = Progress();
        context.SetCustomStatus(final);
        return final;
    }

    /// <summary>The blob of chunk <paramref name="n"/>'s rows.</summary>
    public static string ChunkBlob(string batchId, int n) => $"{batchId}/chunks/{n.ToString("D5", CultureInfo.InvariantCulture)}.json";

    /// <summary>The blob of the results of chunk <paramref name="n"/> from its row <paramref name="from"/> (n = -1: the rows refused at staging).</summary>
    public static string ResultBlob(string batchId, int n, int from = 0) => n < 0
        ? $"{batchId}/results/staging.json"
        : $"{batchId}/results/{n.ToString("D5", CultureInfo.InvariantCulture)}-{from.ToString("D5", CultureInfo.InvariantCulture)}.json";
}

/// <summary>
/// Activity: reads the batch's file once more, checks every row against today's org and programme, and writes the
/// valid rows as chunk blobs and the refused ones as the staging results. Repeating it rewrites the same blobs.
/// </summary>
internal sealed class StageBatch(BatchStore batches, OrgStore org, Programme.ProgrammeConfig programme, TimeProvider time, IOptions<LoyaltyOptions> options)
{
    public const string Name = "StageBatch";

    [Function(Name)]
    public async Task<StagedBatch> RunAsync([ActivityTrigger] BatchStart input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var ct = CancellationToken.None;
        var record = await batches.GetAsync(input.BatchId, ct) ?? throw new InvalidOperationException($"No batch {input.BatchId}.");
        var context = new BatchCheckContext(await org.GetRequiredAsync(ct), await programme.GetRulesAsync(ct), options.Value.LocalDay(time.GetUtcNow()), record.StoreId);
        var chunk = new List<object>(BatchImport.ChunkSize);
        var chunks = 0;
        async Task FlushAsync()
        {
            if (chunk.Count > 0)
            {
                await batches.WriteJsonAsync(BatchImport.ChunkBlob(input.BatchId, chunks++), chunk, ct);
                chunk.Clear();
            }
        }

        var charset = record.Format == BatchFormat.Csv ? (record.Encoding == BatchFile.Gb18030.WebName ? BatchFile.Gb18030 : BatchFile.Utf8) : null;
        var result = await BatchCheck.RunAsync(batches, record.FileBlob, record.Format, charset, record.Kind, context, record.CreatedBy, int.MaxValue, async row =>
        {
            chunk.Add(row);
            if (chunk.Count == BatchImport.ChunkSize)
            {
                await FlushAsync();
            }
        }, ct);
        await FlushAsync();
        var refused = result.Errors.GroupBy(e => e.Row).Select(g => new BatchRowResult(g.Key, "failed", null, g.First().Code, g.First().Message)).ToList();
        await batches.WriteJsonAsync(BatchImport.ResultBlob(input.BatchId, -1), refused, ct);
        return new StagedBatch(record.Kind, result.Rows, chunks, result.Invalid);
    }
}

/// <summary>
/// Activity: applies a chunk's rows from where it is told, eight at a time, and writes each row's result; it stops
/// starting rows after <see cref="TimeBox"/> and answers where the chunk goes on.
/// </summary>
internal sealed class ApplyBatchChunk(BatchStore batches, BatchApply apply)
{
    public const string Name = "ApplyBatchChunk";

    /// <summary>
    /// How long a call starts new rows: well inside the work-item visibility timeout, which the local engine does not
    /// renew (host.json has 1 minute; the crash tests run with 10 s, and a call past it is handed out again).
    /// </summary>
    public static readonly TimeSpan TimeBox = TimeSpan.FromSeconds(5);

    private const int RowsAtOnce = 8;

    [Function(Name)]
    public async Task<ChunkResult> RunAsync([ActivityTrigger] BatchChunk input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var ct = CancellationToken.None;
        var record = await batches.GetAsync(input.BatchId, ct) ?? throw new InvalidOperationException($"No batch {input.BatchId}.");
        var blob = BatchImport.ChunkBlob(input.BatchId, input.Chunk);
        Func<object, Task<BatchRowResult>> applyRow;
        IReadOnlyList<object> rows;
        if (input.Kind == BatchKind.Members)
        {
            rows = await batches.ReadJsonAsync<List<MemberImportRow>>(blob, ct) ?? [];
            applyRow = row => apply.ImportMemberAsync(input.BatchId, (MemberImportRow)row, record.CreatedBy, ct);
        }
        else
        {
            rows = await batches.ReadJsonAsync<List<TopUpImportRow>>(blob, ct) ?? [];
            applyRow = row => apply.TopUpAsync(input.BatchId, (TopUpImportRow)row, record.StoreId, record.CreatedBy, ct);
        }

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var results = new List<BatchRowResult>();
        var next = input.From;
        while (next < rows.Count && (next == input.From || watch.Elapsed < TimeBox))
        {
            results.AddRange(await Task.WhenAll(rows.Skip(next).Take(RowsAtOnce).Select(applyRow)));
            next = Math.Min(rows.Count, next + RowsAtOnce);
        }

        await batches.WriteJsonAsync(BatchImport.ResultBlob(input.BatchId, input.Chunk, input.From), results, ct);
        return new ChunkResult(results.Count(r => r.Applied), results.Count(r => !r.Applied), next < rows.Count ? next : null);
    }
}

/// <summary>
/// Activity: whether the app's own queues that a batch's rows feed (report facts, member events) hold more than
/// <c>Loyalty__BatchBacklogLimit</c> messages, so the next wave should wait for them. Without the pause an import
/// outruns the report projection: the store reports fall minutes behind, and a queue store that filters every message
/// on each read (Azurite's does) slows the whole app as the backlog grows.
/// </summary>
internal sealed class MeasureBatchBacklog(TableStore store, IOptions<LoyaltyOptions> options)
{
    public const string Name = "MeasureBatchBacklog";

    [Function(Name)]
    public async Task<bool> RunAsync([ActivityTrigger] string batchId)
    {
        var limit = options.Value.BatchBacklogLimit;
        if (limit == 0)
        {
            return false;
        }

        var counts = await Task.WhenAll(new[] { store.Names.ReportFactsQueue, store.Names.MemberEventsQueue }.Select(async name =>
            (await store.Queue(name).GetPropertiesAsync(CancellationToken.None)).Value.ApproximateMessagesCount));
        return counts.Sum() > limit;
    }
}

/// <summary>Activity: records the batch's outcome.</summary>
internal sealed class FinishBatch(BatchStore batches, TimeProvider time)
{
    public const string Name = "FinishBatch";

    [Function(Name)]
    public async Task RunAsync([ActivityTrigger] BatchOutcome input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var record = await batches.GetAsync(input.BatchId, CancellationToken.None) ?? throw new InvalidOperationException($"No batch {input.BatchId}.");
        await batches.UpdateAsync(record with
        {
            Status = input.Cancelled ? "cancelled" : "completed",
            Applied = input.Applied,
            Failed = input.Failed,
            FinishedAt = record.FinishedAt ?? time.GetUtcNow(),
        }, CancellationToken.None);
    }
}
