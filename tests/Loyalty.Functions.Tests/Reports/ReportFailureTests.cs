using System.Net;
using Loyalty.Functions.Tests.Support;
using Loyalty.Testing;
using Xunit;

namespace Loyalty.Functions.Tests.Reports;

/// <summary>Report figures when member writes fail around their commits (before, or after with the answer lost).</summary>
public sealed class ReportFailureTests(FaultedApp app) : IClassFixture<FaultedApp>
{
    [Fact]
    public async Task WithFailuresInjectedAroundCommits_TheChainLiabilityStillEqualsTheBalances()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var members = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            members.Add((await app.EnrolAsync("gz-001")).MemberId);
        }

        app.Faults.Reseed(4242);
        app.Faults.Rate = 0.5;
        app.Faults.Enabled = true;
        try
        {
            await Parallel.ForEachAsync(members, new ParallelOptions { MaxDegreeOfParallelism = 6 }, async (member, _) =>
            {
                await RetryAsync(admin, $"/api/members/{member}/top-ups", new { amount = 3_000, storeId = "gz-001" });
                await RetryAsync(admin, "/api/sales", ReportSales.Sale(member, "gz-001", 700, 2, payWithStoredValue: 1_000));
                await RetryAsync(admin, "/api/sales", ReportSales.Sale(member, "gz-001", 300, 1));
            });
        }
        finally
        {
            app.Faults.Enabled = false;
        }

        Assert.True(app.Faults.Injected.Where(f => f.Key != Fault.None).Sum(f => f.Value) > 0, "faults were injected: " + string.Join(",", app.Faults.Injected.Select(f => $"{f.Key}={f.Value}")));
        long expected = 0;
        foreach (var member in members)
        {
            var (_, principal, bonus) = await admin.BalancesAsync(member);
            expected += principal + bonus;
        }

        Assert.Equal(6 * (3_000 - 1_000), expected);
        using var south = app.Client(await app.KeyForAsync("regionManager", "south"));
        await Api.EventuallyAsync(async () =>
        {
            var report = await south.GetJsonAsync("/api/reports/consumption?groupBy=store");
            return report.GetProperty("total").GetProperty("sales").GetInt64() >= 12 && report.GetProperty("total").GetProperty("topUps").GetInt64() >= 6;
        }, "the sales and top-ups are counted");
        var consumption = await south.GetJsonAsync("/api/reports/consumption?groupBy=store");
        Assert.Equal(12, consumption.GetProperty("total").GetProperty("sales").GetInt64());
        Assert.Equal(6 * 1_700, consumption.GetProperty("total").GetProperty("net").GetInt64());
        Assert.Equal(6, consumption.GetProperty("total").GetProperty("topUps").GetInt64());
        Assert.Equal(6 * 3_000, consumption.GetProperty("total").GetProperty("topUpPrincipal").GetInt64());
        Assert.Equal(6 * 1_000, consumption.GetProperty("total").GetProperty("storedValuePaid").GetInt64());
    }

    private static async Task RetryAsync(HttpClient client, string url, object body)
    {
        var key = Guid.NewGuid().ToString();
        for (var attempt = 0; attempt < 20; attempt++)
        {
            try
            {
                var response = await client.PostAsync(url, body, key);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }

                Assert.True(response.StatusCode is HttpStatusCode.ServiceUnavailable or HttpStatusCode.Conflict or HttpStatusCode.InternalServerError or HttpStatusCode.GatewayTimeout,
                    $"{url} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            }
            catch (TimeoutException)
            {
            }
        }

        Assert.Fail($"{url} never succeeded");
    }
}
