using System.Net;
using System.Text;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;
using Loyalty.Functions.Tests.Support;
using Xunit;

namespace Loyalty.Functions.Tests.Ledger;

public sealed class LedgerApiTests(LoyaltyApp app) : IClassFixture<LoyaltyApp>
{
    private async Task<(HttpClient Client, string MemberId)> MemberWithHistoryAsync()
    {
        var client = app.Client(LoyaltyApp.AdminKey);
        var (memberId, _) = await app.EnrolAsync();
        for (var i = 1; i <= 5; i++)
        {
            await client.PostOkAsync($"/api/members/{memberId}/top-ups", new { amount = 1_000 * i, storeId = "sh-001" });
        }

        await client.PostOkAsync($"/api/members/{memberId}/adjustments", new { points = 7, reason = "=SUM(A1) \"quoted\", 中文" });
        await client.PostOkAsync("/api/sales", new { saleId = "S-" + Guid.NewGuid().ToString("N")[..16], storeId = "sh-001", memberId, lines = new[] { new { sku = "A", category = "food", quantity = 1, unitPrice = 500 } } });
        return (client, memberId);
    }

    [Fact]
    public async Task Ledger_NewestFirst_PagedWithContinuation()
    {
        var (client, memberId) = await MemberWithHistoryAsync();

        var first = await client.GetJsonAsync($"/api/members/{memberId}/ledger?pageSize=3");
        var token = first.GetProperty("continuationToken").GetString();
        var second = await client.GetJsonAsync($"/api/members/{memberId}/ledger?pageSize=3&continuationToken={token}");
        var third = await client.GetJsonAsync($"/api/members/{memberId}/ledger?pageSize=3&continuationToken={second.GetProperty("continuationToken").GetString()}");

        var seqs = first.GetProperty("items").EnumerateArray().Concat(second.GetProperty("items").EnumerateArray()).Concat(third.GetProperty("items").EnumerateArray())
            .Select(e => e.GetProperty("seq").GetInt64()).ToList();
        Assert.Equal([7L, 6, 5, 4, 3, 2, 1], seqs);
        Assert.False(third.TryGetProperty("continuationToken", out var end) && end.ValueKind == System.Text.Json.JsonValueKind.String);
        var firstEntry = first.GetProperty("items")[0];
        Assert.Equal("sale", firstEntry.GetProperty("type").GetString());
        Assert.Equal("sh-001", firstEntry.GetProperty("storeId").GetString());
        client.Dispose();
    }

    [Fact]
    public async Task Ledger_FilterByTypeAndDate()
    {
        var (client, memberId) = await MemberWithHistoryAsync();
        var tomorrow = DateTime.UtcNow.AddDays(2).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

        var topUps = await client.GetJsonAsync($"/api/members/{memberId}/ledger?type=topUp&pageSize=2");
        var allTopUps = await client.GetJsonAsync($"/api/members/{memberId}/ledger?type=topUp");
        var future = await client.GetJsonAsync($"/api/members/{memberId}/ledger?from={tomorrow}");
        var past = await client.GetJsonAsync($"/api/members/{memberId}/ledger?to={tomorrow}");

        Assert.Equal(2, topUps.GetProperty("items").GetArrayLength());
        Assert.Equal(5, allTopUps.GetProperty("items").GetArrayLength());
        Assert.All(allTopUps.GetProperty("items").EnumerateArray(), e => Assert.Equal("topUp", e.GetProperty("type").GetString()));
        Assert.Equal(0, future.GetProperty("items").GetArrayLength());
        Assert.Equal(7, past.GetProperty("items").GetArrayLength());
        client.Dispose();
    }

    [Fact]
    public async Task Ledger_Csv_OpensAsRowsWithEscapedCells()
    {
        var (client, memberId) = await MemberWithHistoryAsync();

        var response = await client.GetAsync($"/api/members/{memberId}/ledger?format=csv");
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var text = Encoding.UTF8.GetString(bytes.AsSpan(3));
        var lines = text.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(Encoding.UTF8.GetPreamble(), bytes[..3]);
        Assert.Equal(8, lines.Length);
        Assert.StartsWith("seq,at,type,reason,points", lines[0], StringComparison.Ordinal);
        Assert.Contains("\"'=SUM(A1) \"\"quoted\"\", 中文\"", text, StringComparison.Ordinal);
        client.Dispose();
    }

    [Fact]
    public async Task Ledger_Xlsx_IsAWorkbookWithOneRowPerEntry()
    {
        var (client, memberId) = await MemberWithHistoryAsync();

        var response = await client.GetAsync($"/api/members/{memberId}/ledger?format=xlsx&type=topUp");
        await using var stream = new MemoryStream(await response.Content.ReadAsByteArrayAsync());
        using var document = SpreadsheetDocument.Open(stream, false);
        var rows = document.WorkbookPart!.WorksheetParts.Single().Worksheet.Descendants<Row>().ToList();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(6, rows.Count);
        Assert.Equal("seq", rows[0].Elements<Cell>().First().InnerText);
        Assert.Equal("5", rows[1].Elements<Cell>().First().CellValue!.Text);
        client.Dispose();
    }

    [Theory]
    [InlineData("type=jackpot", "type_invalid")]
    [InlineData("from=yesterday", "date_invalid")]
    [InlineData("pageSize=0", "page_size_invalid")]
    [InlineData("pageSize=500", "page_size_invalid")]
    [InlineData("format=pdf", "format_invalid")]
    [InlineData("continuationToken=abc", "continuation_token_invalid")]
    public async Task Ledger_BadQuery_400(string query, string code)
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (memberId, _) = await app.EnrolAsync();
        await (await admin.GetAsync($"/api/members/{memberId}/ledger?{query}")).AssertProblemAsync(HttpStatusCode.BadRequest, code);
    }
}
