using Azure.Storage.Queues;
using Azure.Data.Tables;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Loyalty.Bench;
using Loyalty.Storage.Azure;
using Loyalty.Storage.Ledger;
using Loyalty.Storage.Queues;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;

// A store day against the app (under the local Functions host), and the storage bound measured in the same run (design.md section 8).
if (args.Contains("--durable-only"))
{
    // The Durable Functions engine alone (design.md section 8): --app is the benchmark app (bench/Loyalty.Bench.DurableApp)
    // under the local host, not the loyalty app; nothing else is needed.
    string Arg(string name, string fallback) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() ?? fallback;
    int Count(string name, int fallback) => int.Parse(Arg(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
    var durable = await DurableBench.RunAsync(
        new Uri(Arg("--app", "http://127.0.0.1:7172")), Arg("--storage", string.Empty), Count("--sequential", 100), Count("--fan-out", 500), Count("--instances", 1_000));
    var durableJson = Arg("--json", "artifacts/bench/durable.json");
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(durableJson))!);
    await File.WriteAllTextAsync(durableJson, JsonSerializer.Serialize(durable, new JsonSerializerOptions { WriteIndented = true }));
    Console.WriteLine($"written {durableJson}");
    return durable.Sequential.AllCompleted && durable.FanOut.AllCompleted && durable.ManyInstances.AllCompleted ? 0 : 1;
}

var options = Options.Parse(args);
var (tables, queues) = StorageClients.FromConnectionString(options.StorageConnection);
var store = new TableStore(new StorageNames(options.TablePrefix, null), tables, queues);
using var admin = new HttpClient { BaseAddress = new Uri(options.AppUrl) };
admin.DefaultRequestHeaders.Add("X-Api-Key", options.AdminKey);
if (args.Contains("--batch-only"))
{
    // HQ batches (issue 21): a member import and a top-up batch through the API, with the storage bound of an import.
    await BenchChain.PutOrgAsync(admin);
    string Arg(string name, string fallback) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() ?? fallback;
    var batch = await BatchBench.RunAsync(admin, tables, store.Queue(store.Names.IntegrationEventsQueue), options.Members, int.Parse(Arg("--top-ups", "10000"), CultureInfo.InvariantCulture), options.AppPid);
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(options.OutputJson))!);
    await File.WriteAllTextAsync(options.OutputJson, JsonSerializer.Serialize(batch, new JsonSerializerOptions { WriteIndented = true }));
    return batch.ImportDone == batch.ImportRows && batch.TopUpDone == batch.TopUpRows ? 0 : 1;
}

if (args.Contains("--campaign-only"))
{
    // A reactivation campaign over dormant members seeded apart from the store-day members (issue 5: 20,000 locally).
    // Run alone, it sets up the bench's chain itself (the store-day phase does otherwise).
    await BenchChain.PutOrgAsync(admin);
    var campaign = await CampaignBench.RunAsync(store, admin, Environment.GetEnvironmentVariable("Loyalty__PhoneHashKey")!, options.Members);
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(options.OutputJson))!);
    await File.WriteAllTextAsync(options.OutputJson, JsonSerializer.Serialize(campaign, new JsonSerializerOptions { WriteIndented = true }));
    return campaign.Offered == campaign.Targeted && campaign.Targeted == options.Members ? 0 : 1;
}

// The chain: 2 regions x 8 stores, one terminal key per store, terminals spread over the stores.
var storeIds = BenchChain.StoreIds;
await BenchChain.PutOrgAsync(admin);
var storeKeys = new List<(string StoreId, string Key)>();
foreach (var s in storeIds)
{
    var created = await (await admin.PostAsJsonAsync("/api/principals", new { role = "terminal", scopeId = s })).Content.ReadFromJsonAsync<JsonElement>();
    storeKeys.Add((s, created.GetProperty("apiKey").GetString()!));
}

var terminals = Enumerable.Range(0, options.Terminals).Select(i => storeKeys[i % storeKeys.Count]).ToList();

var seedWatch = Stopwatch.StartNew();
var phoneKey = Environment.GetEnvironmentVariable("Loyalty__PhoneHashKey") ?? throw new InvalidOperationException("Loyalty__PhoneHashKey is not set");
var members = await Seeder.SeedAsync(store, phoneKey, storeIds, options.Members, options.Terminals);
Console.WriteLine($"seeded {members.Length} members across {storeIds.Count} stores in {seedWatch.Elapsed.TotalSeconds:F1} s");

// 1. The storage bound, with the same concurrency and no app, on the same table and accounts.
var touched = new HashSet<string>(StringComparer.Ordinal);
var boundRecorder = new Recorder();
var boundWatch = Stopwatch.StartNew();
var (boundCommitted, boundConflicts) = await StorageBound.RunAsync(store.Members, members, options.Terminals, options.Duration, boundRecorder, touched);
var boundElapsed = boundWatch.Elapsed;
var boundPerSecond = boundCommitted / boundElapsed.TotalSeconds;

// 2. Sales only through the app, and 3. the store day; the app's memory is sampled throughout.
using var memory = new MemorySampler(options.AppPid);
var salesRecorder = new Recorder();
var salesWatch = Stopwatch.StartNew();
await Terminals.RunAsync(options.AppUrl, terminals, members, Mix.SalesOnly, options.Duration, salesRecorder, touched, "so");
var salesElapsed = salesWatch.Elapsed;
var dayRecorder = new Recorder();
var dayWatch = Stopwatch.StartNew();
await Terminals.RunAsync(options.AppUrl, terminals, members, Mix.StoreDay, options.Duration, dayRecorder, touched, "day");
var dayElapsed = dayWatch.Elapsed;
var memoryReport = memory.Stop();

var reconcile = await new Reconciler(store).RunAsync(touched);
var sales = salesRecorder.Summarise(salesElapsed).Single(s => s.Operation == "sale");
var result = new
{
    at = DateTimeOffset.UtcNow,
    machine = new { cores = Environment.ProcessorCount, os = Environment.OSVersion.VersionString },
    settings = new { options.Members, options.Terminals, seconds = options.Duration.TotalSeconds },
    storageBound = new { transactionsPerSecond = boundPerSecond, boundCommitted, conflicts412 = boundConflicts, stats = boundRecorder.Summarise(boundElapsed) },
    salesOnly = new { stats = salesRecorder.Summarise(salesElapsed), errors = salesRecorder.Errors },
    storeDay = new { stats = dayRecorder.Summarise(dayElapsed), errors = dayRecorder.Errors },
    ratioSalesToStorageBound = sales.PerSecond / boundPerSecond,
    appMemory = memoryReport,
    invariants = new { membersChecked = reconcile.MembersChecked, entriesChecked = reconcile.EntriesChecked, discrepancies = reconcile.Discrepancies },
};

Console.WriteLine();
Console.WriteLine($"storage bound     {boundPerSecond,8:F1} read+transaction/s   ({boundConflicts} 412s retried by the loop)");
Print("sales only", salesRecorder.Summarise(salesElapsed));
Print("store day", dayRecorder.Summarise(dayElapsed));
Console.WriteLine($"ratio (sales/s through the app / storage bound): {result.ratioSalesToStorageBound:F2}");
Console.WriteLine($"app working set MB: start {memoryReport.FirstMb:F0}, end {memoryReport.LastMb:F0}, peak {memoryReport.PeakMb:F0}");
var errors = salesRecorder.Errors.Concat(dayRecorder.Errors).ToList();
Console.WriteLine(errors.Count == 0 ? "errors: none" : "errors: " + string.Join(", ", errors.Select(e => $"{e.Key} x{e.Value}")));
Console.WriteLine($"invariants: {reconcile.MembersChecked} members, {reconcile.EntriesChecked} ledger entries checked, {reconcile.Discrepancies.Count} discrepancies");
foreach (var d in reconcile.Discrepancies.Take(20))
{
    Console.WriteLine($"  {d.MemberId}: {d.Problem}");
}

Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(options.OutputJson))!);
await File.WriteAllTextAsync(options.OutputJson, JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }));
Console.WriteLine($"written {options.OutputJson}");
return reconcile.Discrepancies.Count > 0 || errors.Count > 0 ? 1 : 0;

static void Print(string title, IReadOnlyList<OperationStats> stats)
{
    Console.WriteLine($"{title}:");
    Console.WriteLine("  operation        count     per s    p50 ms   p95 ms   p99 ms   max ms");
    foreach (var s in stats)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {s.Operation,-14} {s.Count,7} {s.PerSecond,9:F1} {s.P50Ms,9:F1} {s.P95Ms,8:F1} {s.P99Ms,8:F1} {s.MaxMs,8:F1}"));
    }
}
