using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Loyalty.Storage.Schema;

namespace Loyalty.Bench;

/// <summary>What the campaign run measured.</summary>
internal sealed record CampaignReport(int Members, double SeedSeconds, double DryRunSeconds, int Targeted, double OfferSeconds, int Offered, int Notified, double MembersPerSecondSelected, double OffersPerSecond, double TotalSeconds, long EventMessagesRead, double OfferingSeconds, double OffersPerSecondWhileOffering, int StorageStalls, double StorageStallSeconds, double LongestStorageStallSeconds, double StallSecondsWhileOffering, double OffersPerSecondWhileOfferingLessStalls);

/// <summary>
/// Seeds dormant members (last purchase 2025-01-01, every other one with marketing consent) and runs the Reactivation
/// orchestration over them through the management API: a dry run, then a real run whose window is cut short. A
/// downstream consumer reads the integration events meanwhile (<see cref="EventDrain"/>), as the ERP would.
/// </summary>
internal static class CampaignBench
{
    public static async Task<CampaignReport> RunAsync(TableStore store, HttpClient admin, string phoneKey, int count)
    {
        ArgumentNullException.ThrowIfNull(store);
        await using var drain = new EventDrain(store.Queue(store.Names.IntegrationEventsQueue));
        var stores = (await admin.GetFromJsonAsync<JsonElement>("/api/config/org")).GetProperty("nodes").EnumerateArray()
            .Where(n => n.GetProperty("kind").GetString() == "store").Select(n => n.GetProperty("id").GetString()!).ToList();
        var watch = Stopwatch.StartNew();
        await Seeder.SeedAsync(store, phoneKey, stores, count, 32, "R", "+86137", "2025-01-01");
        var seed = watch.Elapsed.TotalSeconds;
        Console.WriteLine($"campaign: seeded {count} dormant members in {seed:F1} s");

        var campaign = new { campaignId = "bench-" + Guid.NewGuid().ToString("N")[..8], noPurchaseDays = 180, offer = new { points = 100 }, windowDays = 14, dryRun = true };
        watch.Restart();
        var (dry, _) = await RunAsync(admin, campaign, campaign.campaignId + "-dry", skipWait: false);
        var dryRun = watch.Elapsed.TotalSeconds;
        var targeted = dry.GetProperty("targeted").GetInt32();
        Console.WriteLine($"campaign: dry run found {targeted} targets in {dryRun:F1} s ({targeted / dryRun:F0} members/s)");

        watch.Restart();
        await using var probe = new StallProbe(store.Queue("bench-stall-probe"));
        var (real, offering) = await RunAsync(admin, campaign with { dryRun = false }, campaign.campaignId, skipWait: true);
        var offer = watch.Elapsed.TotalSeconds;
        var offered = real.GetProperty("offered").GetInt32();
        var stalls = probe.Stalls;
        var stalledOffering = probe.StalledBetween(0, offering);
        Console.WriteLine($"campaign: offered {offered} (notified {real.GetProperty("notified").GetInt32()}) and measured in {offer:F1} s ({offered / offer:F0} offers/s); "
            + $"the offering phase took {offering:F1} s ({offered / offering:F0} offers/s, {offered / (offering - stalledOffering):F0} less the {stalledOffering:F1} s Azurite stalled in it); "
            + $"Azurite stalled {stalls.Count} times for {stalls.TotalSeconds:F1} s in all (longest {stalls.LongestSeconds:F1} s); result {real}");
        return new CampaignReport(count, seed, dryRun, targeted, offer, offered, real.GetProperty("notified").GetInt32(), targeted / dryRun, offered / offer, seed + dryRun + offer, drain.Messages,
            offering, offered / offering, stalls.Count, stalls.TotalSeconds, stalls.LongestSeconds, stalledOffering, offered / (offering - stalledOffering));
    }

    /// <summary>Runs one campaign to its end: its output, and the seconds from the start until it was seen waiting for its window (all offers made).</summary>
    private static async Task<(JsonElement Output, double OfferingSeconds)> RunAsync(HttpClient admin, object input, string instanceId, bool skipWait)
    {
        var watch = Stopwatch.StartNew();
        (await admin.PostAsJsonAsync($"/api/orchestrations/Reactivation?instanceId={instanceId}", input)).EnsureSuccessStatusCode();
        var skipped = false;
        double? offering = null;
        while (true)
        {
            await Task.Delay(200);
            var state = await admin.GetFromJsonAsync<JsonElement>($"/api/orchestrations/{instanceId}");
            var status = state.GetProperty("runtimeStatus").GetString();
            if (status is "Completed")
            {
                return (state.GetProperty("output"), offering ?? watch.Elapsed.TotalSeconds);
            }

            if (status is "Failed" or "Terminated")
            {
                throw new InvalidOperationException($"{instanceId} ended {status}: {state}");
            }

            if (skipWait && !skipped && state.TryGetProperty("customStatus", out var custom) && custom.ValueKind == JsonValueKind.Object
                && custom.GetProperty("phase").GetString() == "waitingForWindow")
            {
                offering = watch.Elapsed.TotalSeconds;
                (await admin.PostAsJsonAsync($"/api/orchestrations/{instanceId}/events/skip-wait", new { })).EnsureSuccessStatusCode();
                skipped = true;
            }
        }
    }
}
