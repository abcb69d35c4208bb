using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Loyalty.Functions.Tests.Hosting;
using Loyalty.Functions.Tests.Support;
using Loyalty.Testing;
using Xunit;

namespace Loyalty.Functions.Tests.Reports;

/// <summary>
/// The dashboard in a real browser: the app runs under the local host (on the shared Azurite), headless Chromium
/// loads <c>/api/dashboard</c> with an API key, and the bars it drew are compared with the report API's figures.
/// A screenshot goes to artifacts/test-results/dashboard.png.
/// </summary>
public sealed partial class DashboardBrowserTests(LoyaltyApp app) : IClassFixture<LoyaltyApp>
{
    [Fact]
    public async Task Dashboard_InHeadlessChromium_ChartsTheReportFiguresOfTheKeysScope()
    {
        var chromium = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists);
        Assert.True(chromium is not null, "headless Chromium is needed (scripts/test.sh installs the Debian package 'chromium')");
        var dashboard = new Uri(app.Host.BaseAddress, "api/dashboard");
        using var admin = app.Client(LoyaltyApp.AdminKey);

        // Members at three stores; top-ups, sales paid partly with stored value, one refund; one member made gold.
        var amounts = new (string Store, long TopUp, long Sale)[] { ("sh-001", 30_000, 8_000), ("sh-001", 10_000, 2_500), ("hz-001", 20_000, 12_000), ("gz-001", 5_000, 1_500) };
        string? gold = null;
        foreach (var (store, topUp, sale) in amounts)
        {
            var member = await admin.PostOkAsync("/api/members", new { phone = LoyaltyApp.NewPhone(), name = "Browser", storeId = store }, Guid.NewGuid().ToString());
            var memberId = member.GetProperty("memberId").GetString()!;
            gold ??= memberId;
            await admin.PostOkAsync($"/api/members/{memberId}/top-ups", new { amount = topUp, storeId = store });
            var receipt = await admin.PostOkAsync("/api/sales", new
            {
                saleId = "S-" + Guid.NewGuid().ToString("N")[..16],
                storeId = store,
                memberId,
                lines = new[] { new { sku = "TEA", category = "drinks", quantity = 1, unitPrice = sale } },
                payWithStoredValue = sale / 2,
            });
            if (store == "hz-001")
            {
                await admin.PostOkAsync($"/api/sales/{receipt.GetProperty("saleId").GetString()}/refunds", new { refundId = "r1", amount = 2_000 });
            }
        }

        using var setTierRequest = Api.Json(HttpMethod.Put, $"/api/members/{gold}/tier", JsonSerializer.Serialize(new { tier = "gold", reason = "browser test" }), Guid.NewGuid().ToString());
        var setTier = await admin.SendAsync(setTierRequest);
        Assert.True(setTier.IsSuccessStatusCode, await setTier.Content.ReadAsStringAsync());
        await Api.EventuallyAsync(async () =>
        {
            var total = (await admin.GetJsonAsync("/api/reports/consumption")).GetProperty("total");
            return total.GetProperty("sales").GetInt64() == 4 && total.GetProperty("refunds").GetInt64() == 1 && total.GetProperty("topUps").GetInt64() == 4;
        }, "every operation is counted");
        await admin.PostOkAsync("/api/ops/reports/snapshot", new { });

        // The east region's manager opens the page.
        var key = (await admin.PostOkAsync("/api/principals", new { role = "regionManager", scopeId = "east" })).GetProperty("apiKey").GetString()!;
        using var east = app.Client(key);
        var liability = await east.GetJsonAsync("/api/reports/liability");
        var tiers = await east.GetJsonAsync("/api/reports/tier-distribution");
        var consumption = await east.GetJsonAsync("/api/reports/consumption?groupBy=day");

        var url = $"{dashboard}#key={Uri.EscapeDataString(key)}";
        var dom = await RunChromiumAsync(chromium!, "--dump-dom", url);
        Assert.Contains("data-loaded=\"true\"", dom, StringComparison.Ordinal);
        Assert.Contains("Scope east", dom, StringComparison.Ordinal);

        var liabilityBars = Bars(dom, "liability");
        Assert.Equal(
            liability.GetProperty("byStore").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!, s => s.GetProperty("liability").GetProperty("storedValue").GetInt64()),
            liabilityBars.ToDictionary(b => b.Key, b => long.Parse(b.Value, CultureInfo.InvariantCulture)));
        Assert.Equal(["Hangzhou 1", "Shanghai 1"], liabilityBars.Keys.Order(StringComparer.Ordinal));

        var tierBars = Bars(dom, "tiers");
        Assert.Equal("1", tierBars["黄金会员"]);
        Assert.Equal(tiers.GetProperty("tiers").EnumerateArray().Single(t => t.GetProperty("tier").GetString() == "standard").GetProperty("members").GetInt64().ToString(CultureInfo.InvariantCulture), tierBars["普通会员"]);
        Assert.Equal("2", tierBars["普通会员"]);

        var dayBars = Bars(dom, "consumption");
        var today = consumption.GetProperty("rows").EnumerateArray().Single();
        Assert.Equal(today.GetProperty("netAfterRefunds").GetInt64().ToString(CultureInfo.InvariantCulture), dayBars[today.GetProperty("key").GetString()!]);
        Assert.Equal(8_000 + 2_500 + 12_000 - 2_000, today.GetProperty("netAfterRefunds").GetInt64());
        Assert.Contains("data-card=\"members\"", dom, StringComparison.Ordinal);

        // A key the app does not know gets the message, not charts.
        var refused = await RunChromiumAsync(chromium!, "--dump-dom", $"{dashboard}#key=not-a-key");
        Assert.Contains("That API key was not accepted.", refused, StringComparison.Ordinal);
        Assert.DoesNotContain("data-chart=", refused, StringComparison.Ordinal);

        var screenshot = Path.Combine(Path.GetDirectoryName(OpenApiDocumentTests.FindRepoFile("host.json"))!, "artifacts", "test-results", "dashboard.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        File.Delete(screenshot);
        await RunChromiumAsync(chromium!, "--screenshot=" + screenshot, url);
        Assert.True(new FileInfo(screenshot).Length > 10_000, "the screenshot was written");

        // The page carries a policy that allows only its own script and style, and no cache.
        using var anonymous = app.Client(null);
        var page = await anonymous.GetAsync("/api/dashboard");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("script-src 'sha256-", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.DoesNotContain("src=\"http", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>The bars of one chart: label to value, as the page drew them.</summary>
    private static Dictionary<string, string> Bars(string dom, string chart)
    {
        var start = dom.IndexOf($"data-chart=\"{chart}\"", StringComparison.Ordinal);
        Assert.True(start >= 0, $"chart {chart} is drawn");
        var end = dom.IndexOf("</svg>", start, StringComparison.Ordinal);
        return BarPattern().Matches(dom[start..end]).ToDictionary(m => WebUtility.HtmlDecode(m.Groups[1].Value), m => m.Groups[2].Value);
    }

    [GeneratedRegex("data-label=\"([^\"]*)\" data-value=\"([^\"]*)\"")]
    private static partial Regex BarPattern();

    private static async Task<string> RunChromiumAsync(string chromium, string action, string url)
    {
        var info = new ProcessStartInfo(chromium) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--hide-scrollbars", "--window-size=1400,1700", "--virtual-time-budget=20000", "--user-data-dir=" + Directory.CreateTempSubdirectory("loyalty-chromium-").FullName, action, url })
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"chromium exited {process.ExitCode}: {await stderr}");
        return await stdout;
    }
}
