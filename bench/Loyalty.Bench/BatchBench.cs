using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Storage.Queues;
using Loyalty.Storage.Members;
using Azure.Data.Tables;

namespace Loyalty.Bench;

/// <summary>What the batch phase measured: each batch's rows per second and the storage bound's, and the worker's memory.</summary>
internal sealed record BatchReport(
    int ImportRows,
    double ImportFileMb,
    double ImportUploadSeconds,
    double ImportSeconds,
    double ImportRowsPerSecond,
    int ImportDone,
    int ImportFailed,
    int TopUpRows,
    double TopUpSeconds,
    double TopUpRowsPerSecond,
    int TopUpDone,
    int TopUpFailed,
    double StorageBoundRowsPerSecond,
    double ImportRatioToBound,
    MemoryReport? WorkerMemory,
    long EventMessagesRead,
    double ImportStallSeconds,
    double TopUpStallSeconds);

/// <summary>
/// The batch phase: a member import of <c>rows</c> rows (each with opening points) and a top-up batch over the imported
/// members, posted as CSV files through the app's API like HQ would, timed from the upload to the batch's completion.
/// The storage bound is what each imported row must write at least (its phone and card index rows, and the member
/// partition in one transaction), sent straight to Azurite with the same 32 rows in flight as the orchestration
/// (four chunks, eight rows each); the worker's resident memory is sampled throughout (a file is streamed, never
/// loaded whole, so it should stay flat as the file grows).
/// </summary>
internal static class BatchBench
{
    private const int InFlight = 32;

    public static async Task<BatchReport> RunAsync(HttpClient admin, TableServiceClient tables, QueueClient events, int importRows, int topUpRows, int appPid)
    {
        await using var drain = new EventDrain(events);
        await using var probe = new StallProbe(Azure.Storage.Queues.Specialized.SpecializedQueueExtensions.GetParentQueueServiceClient(events).GetQueueClient("bench-stall-probe"));
        var bound = await StorageBoundAsync(tables, Math.Min(importRows, 5_000));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"batch: storage bound {bound:F0} imported rows/s ({InFlight} in flight)"));

        // Phones 135 + 8 digits from a random start, so runs on one Azurite do not collide.
        var first = Random.Shared.Next(0, 50_000_000);
        var phones = Enumerable.Range(first, importRows).Select(i => "135" + i.ToString("D8", CultureInfo.InvariantCulture)).ToList();
        var file = Path.Combine(Path.GetTempPath(), $"bench-import-{Guid.NewGuid():N}.csv");
        try
        {
            await using (var writer = new StreamWriter(file, false, new UTF8Encoding(false)))
            {
                await writer.WriteLineAsync("phone,name,storeId,points,reason");
                for (var i = 0; i < phones.Count; i++)
                {
                    await writer.WriteLineAsync($"{phones[i]},迁移会员{i},{BenchChain.StoreIds[i % BenchChain.StoreIds.Count]},100,旧系统");
                }
            }

            using var memory = new MemorySampler(appPid);
            var fileMb = new FileInfo(file).Length / (1024.0 * 1024);
            var watch = Stopwatch.StartNew();
            var importStart = probe.Now;
            var importId = await UploadAsync(admin, "/api/batches?kind=members", file);
            var uploaded = watch.Elapsed.TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"batch: {importRows:N0}-row import ({fileMb:F1} MiB) accepted in {uploaded:F1} s as {importId}"));
            var import = await WaitAsync(admin, importId);
            var importSeconds = watch.Elapsed.TotalSeconds;
            var importStalls = probe.StalledBetween(importStart, probe.Now);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"batch: import {import.Done:N0} done, {import.Failed} failed in {importSeconds:F1} s ({import.Done / importSeconds:F0} rows/s, {import.Done / importSeconds / bound:F2} of the bound; Azurite stalled {importStalls:F1} s of it)"));

            await using (var writer = new StreamWriter(file, false, new UTF8Encoding(false)))
            {
                await writer.WriteLineAsync("phone,amount");
                for (var i = 0; i < topUpRows; i++)
                {
                    await writer.WriteLineAsync($"{phones[i % phones.Count]},{10_000 + (i % 5 * 10_000)}");
                }
            }

            watch.Restart();
            var topUpStart = probe.Now;
            var topUpId = await UploadAsync(admin, $"/api/batches?kind=top-ups&storeId={BenchChain.StoreIds[0]}", file);
            var topUp = await WaitAsync(admin, topUpId);
            var topUpSeconds = watch.Elapsed.TotalSeconds;
            var topUpStalls = probe.StalledBetween(topUpStart, probe.Now);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"batch: {topUpRows:N0} top-ups {topUp.Done:N0} done, {topUp.Failed} failed in {topUpSeconds:F1} s ({topUp.Done / topUpSeconds:F0} rows/s; Azurite stalled {topUpStalls:F1} s of it)"));
            var worker = memory.Stop();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"batch: worker memory {worker.FirstMb:F0} MiB at the start, {worker.PeakMb:F0} MiB at the peak, {worker.LastMb:F0} MiB at the end"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"batch: {drain.Messages:N0} integration-event messages read by the downstream consumer"));
            return new BatchReport(
                importRows, fileMb, uploaded, importSeconds, import.Done / importSeconds, import.Done, import.Failed,
                topUpRows, topUpSeconds, topUp.Done / topUpSeconds, topUp.Done, topUp.Failed, bound, import.Done / importSeconds / bound, worker, drain.Messages, importStalls, topUpStalls);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static async Task<string> UploadAsync(HttpClient admin, string url, string file)
    {
        await using var stream = File.OpenRead(file);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(url, UriKind.Relative)) { Content = new StreamContent(stream) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("text/csv");
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        using var response = await admin.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{url} answered {(int)response.StatusCode}: {body}");
        }

        return JsonDocument.Parse(body).RootElement.GetProperty("batchId").GetString()!;
    }

    private static async Task<(int Done, int Failed)> WaitAsync(HttpClient admin, string batchId)
    {
        var watch = Stopwatch.StartNew();
        var lastPrint = TimeSpan.Zero;
        while (true)
        {
            await Task.Delay(1_000);
            using var doc = JsonDocument.Parse(await admin.GetStringAsync(new Uri($"/api/batches/{batchId}", UriKind.Relative)));
            var view = doc.RootElement;
            var status = view.GetProperty("status").GetString();
            if (status is "completed" or "cancelled")
            {
                return (view.GetProperty("done").GetInt32(), view.GetProperty("failed").GetInt32());
            }

            if (status is "failed" or "terminated")
            {
                throw new InvalidOperationException($"batch {batchId} ended {status}: {view}");
            }

            if (watch.Elapsed - lastPrint >= TimeSpan.FromMinutes(1))
            {
                // Progress on the way, so a long run that is stopped still says how fast it went.
                lastPrint = watch.Elapsed;
                var done = view.GetProperty("done").GetInt32();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"batch: {batchId} {done:N0} done, {view.GetProperty("remaining").GetInt32():N0} remaining after {watch.Elapsed.TotalSeconds:F0} s ({done / watch.Elapsed.TotalSeconds:F0} rows/s)"));
            }
        }
    }

    /// <summary>Rows per second of the least an import writes per row: two index rows and the member partition's transaction.</summary>
    private static async Task<double> StorageBoundAsync(TableServiceClient tables, int rows)
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var index = tables.GetTableClient("boundindex" + suffix);
        var members = tables.GetTableClient("boundmembers" + suffix);
        await Task.WhenAll(index.CreateIfNotExistsAsync(), members.CreateIfNotExistsAsync());
        try
        {
            var watch = Stopwatch.StartNew();
            await Parallel.ForEachAsync(Enumerable.Range(0, rows), new ParallelOptions { MaxDegreeOfParallelism = InFlight }, async (i, ct) =>
            {
                var id = "M" + i.ToString("D12", CultureInfo.InvariantCulture);
                var phone = "phone-" + i.ToString(CultureInfo.InvariantCulture);
                var card = "card-" + i.ToString(CultureInfo.InvariantCulture);
                await index.AddEntityAsync(new TableEntity(phone, MemberStore.IndexRow(phone)) { ["MemberId"] = id }, ct);
                await index.AddEntityAsync(new TableEntity(card, MemberStore.IndexRow(card)) { ["MemberId"] = id }, ct);
                await members.SubmitTransactionAsync(
                [
                    new(TableTransactionActionType.Add, new TableEntity(id, MemberStore.ProfileRow(id)) { ["Name"] = "迁移会员", ["Phone"] = "13500000000" }),
                    new(TableTransactionActionType.Add, new TableEntity(id, MemberStore.AccountRow(id)) { ["Points"] = 100L, ["NextSeq"] = 2L }),
                    new(TableTransactionActionType.Add, new TableEntity(id, "card-8860000000000000") { ["Status"] = "Active" }),
                    new(TableTransactionActionType.Add, new TableEntity(id, MemberStore.LedgerRow(id, 1)) { ["Type"] = "Opening", ["Points"] = 100L }),
                ], ct);
            });
            return rows / watch.Elapsed.TotalSeconds;
        }
        finally
        {
            await Task.WhenAll(index.DeleteAsync(), members.DeleteAsync());
        }
    }
}
