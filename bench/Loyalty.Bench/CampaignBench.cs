using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Loyalty.Storage.Schema;

namespace Loyalty.Bench;

/// <summary>What the campaign run measured.</summary>
internal sealed record CampaignReport(int Members, double SeedSeconds, double DryRunSeconds, int Targeted, double OfferSeconds, int Offered, int Notified, double MembersPerSecondSelected, double OffersPerSecond, double TotalSeconds, long EventMessagesRead);

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
        var dry = await RunAsync(admin, campaign, campaign.campaignId + "-dry", skipWait: false);
        var dryRun = watch.Elapsed.TotalSeconds;
        var targeted = dry.GetProperty("targeted").GetInt32();
        Console.WriteLine($"campaign: dry run found {targeted} targets in {dryRun:F1} s ({targeted / dryRun:F0} members/s)");

        watch.Restart();
        var real = await RunAsync(admin, campaign with { dryRun = false }, campaign.campaignId, skipWait: true);
        var offer = watch.Elapsed.TotalSeconds;
        var offered = real.GetProperty("offered").GetInt32();
        Console.WriteLine($"campaign: offered {offered} (notified {real.GetProperty("notified").GetInt32()}) and measured in {offer:F1} s ({offered / offer:F0} offers/s); result {real}");
        return new CampaignReport(count, seed, dryRun, targeted, offer, offered, real.GetProperty("notified").GetInt32(), targeted / dryRun, offered / offer, seed + dryRun + offer, drain.Messages);
    }

    private static async Task<JsonElement> RunAsync(HttpClient admin, object input, string instanceId, bool skipWait)
    {
        (await admin.PostAsJsonAsync($"/api/orchestrations/Reactivation?instanceId={instanceId}", input)).EnsureSuccessStatusCode();
        var skipped = false;
        while (true)
        {
            await Task.Delay(500);
            var state = await admin.GetFromJsonAsync<JsonElement>($"/api/orchestrations/{instanceId}");
            var status = state.GetProperty("runtimeStatus").GetString();
            if (status is "Completed")
            {
                return state.GetProperty("output");
            }

            if (status is "Failed" or "Terminated")
            {
                throw new InvalidOperationException($"{instanceId} ended {status}: {state}");
            }

            if (skipWait && !skipped && state.TryGetProperty("customStatus", out var custom) && custom.ValueKind == JsonValueKind.Object
                && custom.GetProperty("phase").GetString() == "waitingForWindow")
            {
                (await admin.PostAsJsonAsync($"/api/orchestrations/{instanceId}/events/skip-wait", new { })).EnsureSuccessStatusCode();
                skipped = true;
            }
        }
    }
}
