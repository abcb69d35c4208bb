using System.Net;
using System.Text;
using System.Text.Json;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;
using Loyalty.Functions.Tests.Support;
using Xunit;

namespace Loyalty.Functions.Tests.Reports;

/// <summary>The chain of the scope tests: one member, one top-up and one sale per store (1,000 / 2,000 / 4,000 fen).</summary>
public sealed class ReportScopeApp : LoyaltyApp
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        using var admin = Client(AdminKey);
        foreach (var (store, amount) in new[] { ("sh-001", 1_000L), ("hz-001", 2_000L), ("gz-001", 4_000L) })
        {
            var (member, _) = await EnrolAsync(store);
            await admin.PostOkAsync($"/api/members/{member}/top-ups", new { amount, storeId = store });
            await admin.PostOkAsync("/api/sales", new
            {
                saleId = "S-" + Guid.NewGuid().ToString("N")[..16],
                storeId = store,
                memberId = member,
                lines = new[] { new { sku = "RICE", category = "food", quantity = 1, unitPrice = amount } },
            });
        }

        await Api.EventuallyAsync(async () =>
        {
            var total = (await admin.GetJsonAsync("/api/reports/consumption")).GetProperty("total");
            return total.GetProperty("sales").GetInt64() == 3 && total.GetProperty("topUps").GetInt64() == 3;
        }, "the three sales and top-ups are counted");
    }
}

/// <summary>Who sees which stores: a store its own, a region its stores, HQ everything; outside one's scope is 403.</summary>
public sealed class ReportScopeTests(ReportScopeApp app) : IClassFixture<ReportScopeApp>
{
    private static string[] Stores(JsonElement liability) =>
        [.. liability.GetProperty("byStore").EnumerateArray().Select(s => s.GetProperty("storeId").GetString()!).Where(s => s.Contains('-', StringComparison.Ordinal)).Order(StringComparer.Ordinal)];

    [Theory]
    [InlineData("terminal", "sh-001", "sh-001", "hz-001")]
    [InlineData("storeManager", "hz-001", "hz-001", "sh-001")]
    [InlineData("regionManager", "east", "hz-001,sh-001", "south")]
    [InlineData("regionManager", "south", "gz-001", "sh-001")]
    [InlineData("hqAdmin", "hq", "gz-001,hz-001,sh-001", null)]
    [InlineData("ops", "hq", "gz-001,hz-001,sh-001", null)]
    public async Task EachRole_SeesTheStoresOfItsScope_AndGets403Outside(string role, string scopeId, string visible, string? outside)
    {
        using var client = app.Client(await app.KeyForAsync(role, scopeId));
        var liability = await client.GetJsonAsync("/api/reports/liability");
        Assert.Equal(scopeId, liability.GetProperty("scopeId").GetString());
        Assert.Equal(visible.Split(','), Stores(liability));
        var expected = visible.Split(',').Sum(s => s switch { "sh-001" => 1_000L, "hz-001" => 2_000L, _ => 4_000L });
        var consumption = await client.GetJsonAsync("/api/reports/consumption");
        Assert.Equal(expected, consumption.GetProperty("total").GetProperty("net").GetInt64());
        Assert.Equal(visible.Split(',').Length, consumption.GetProperty("total").GetProperty("sales").GetInt64());

        if (outside is not null)
        {
            foreach (var report in new[] { "liability", "stored-value", "consumption", "tier-distribution", "benefit-usage" })
            {
                var response = await client.GetAsync($"/api/reports/{report}?scopeId={outside}");
                await response.AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden_scope");
            }
        }
    }

    [Fact]
    public async Task ARegion_NarrowsToOneOfItsStores()
    {
        using var east = app.Client(await app.KeyForAsync("regionManager", "east"));
        var report = await east.GetJsonAsync("/api/reports/consumption?scopeId=hz-001&groupBy=region");
        Assert.Equal("hz-001", report.GetProperty("scopeId").GetString());
        var row = Assert.Single(report.GetProperty("rows").EnumerateArray());
        Assert.Equal("east", row.GetProperty("key").GetString());
        Assert.Equal(2_000, row.GetProperty("net").GetInt64());
    }

    [Theory]
    [InlineData("/api/reports/liability?scopeId=nowhere", HttpStatusCode.BadRequest, "scope_unknown")]
    [InlineData("/api/reports/consumption?from=2026-13-01", HttpStatusCode.BadRequest, "period_invalid")]
    [InlineData("/api/reports/consumption?from=2026-05-02&to=2026-05-01", HttpStatusCode.BadRequest, "period_invalid")]
    [InlineData("/api/reports/stored-value?from=2024-01-01&to=2026-01-01", HttpStatusCode.BadRequest, "period_invalid")]
    [InlineData("/api/reports/consumption?groupBy=cashier", HttpStatusCode.BadRequest, "group_by_invalid")]
    [InlineData("/api/reports/consumption?format=pdf", HttpStatusCode.BadRequest, "format_invalid")]
    public async Task BadQueries_AreRefusedWithTheirCode(string url, HttpStatusCode status, string code)
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        await (await admin.GetAsync(url)).AssertProblemAsync(status, code);
    }

    [Fact]
    public async Task WithoutAKey_401_AndOnlyHqOrOpsTakeASnapshot()
    {
        using var anonymous = app.Client();
        await (await anonymous.GetAsync("/api/reports/liability")).AssertProblemAsync(HttpStatusCode.Unauthorized, "api_key_missing");
        using var manager = app.Client(await app.KeyForAsync("storeManager", "sh-001"));
        await (await manager.PostAsync("/api/ops/reports/snapshot", new StringContent("{}", Encoding.UTF8, "application/json"))).AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden_role");
    }

    [Fact]
    public async Task Consumption_ExportsAsCsvAndXlsx_WithOnlyTheCallersStores()
    {
        using var manager = app.Client(await app.KeyForAsync("storeManager", "sh-001"));
        var csv = await manager.GetAsync("/api/reports/consumption?format=csv");
        Assert.Equal(HttpStatusCode.OK, csv.StatusCode);
        Assert.Equal("text/csv", csv.Content.Headers.ContentType!.MediaType);
        var lines = (await csv.Content.ReadAsStringAsync()).TrimStart('\uFEFF').Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("key,name,sales,visits,gross", lines[0], StringComparison.Ordinal);
        Assert.Equal(["key", "sh-001", "total"], lines.Select(l => l.Split(',')[0]));
        Assert.Equal("1000", lines[1].Split(',')[8]);

        using var east = app.Client(await app.KeyForAsync("regionManager", "east"));
        var xlsx = await east.GetAsync("/api/reports/consumption?format=xlsx");
        Assert.Equal("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", xlsx.Content.Headers.ContentType!.MediaType);
        await using var stream = new MemoryStream(await xlsx.Content.ReadAsByteArrayAsync());
        using var document = SpreadsheetDocument.Open(stream, false);
        var rows = document.WorkbookPart!.WorksheetParts.Single().Worksheet.Descendants<Row>().ToList();
        Assert.Equal(["key", "hz-001", "sh-001", "total"], rows.Select(r => r.Elements<Cell>().First().InnerText));
        Assert.Equal("3000", rows[^1].Elements<Cell>().ElementAt(8).CellValue!.Text);
    }
}
