using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Loyalty.Functions.Http;
using Loyalty.Functions.Tests.Support;
using Loyalty.Storage.Ledger;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Loyalty.Functions.Tests.Batches;

/// <summary>An app whose batch limits are small enough to test (64 KiB, 50 rows).</summary>
public sealed class BatchApp : LoyaltyApp
{
    public override Dictionary<string, string> Settings(string storageConnection)
    {
        var settings = base.Settings(storageConnection);
        settings["Loyalty__MaxBatchBytes"] = (64 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Loyalty__MaxBatchRows"] = "50";
        return settings;
    }
}

public sealed class BatchImportTests(BatchApp app) : IClassFixture<BatchApp>
{
    private const string Xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

    private static HttpRequestMessage Upload(string url, byte[] file, string contentType, string? key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(file) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (key is not null)
        {
            request.Headers.Add("Idempotency-Key", key);
        }

        return request;
    }

    private static byte[] Utf8Csv(string text, bool bom = false) => [.. bom ? Encoding.UTF8.GetPreamble() : [], .. Encoding.UTF8.GetBytes(text)];

    private static async Task<JsonElement> WaitFinishedAsync(HttpClient admin, string batchId)
    {
        JsonElement view = default;
        await Api.EventuallyAsync(async () =>
        {
            view = await admin.GetJsonAsync($"/api/batches/{batchId}");
            return view.GetProperty("status").GetString() is "completed" or "cancelled" or "failed";
        }, $"batch {batchId} finished", () => view.ValueKind == JsonValueKind.Undefined ? "nothing" : view.ToString());
        return view;
    }

    /// <summary>The member with this phone number, or null when there is none.</summary>
    private static async Task<JsonElement?> FindByPhoneAsync(HttpClient admin, string phone)
    {
        using var response = await admin.GetAsync(new Uri($"/api/members?phone={phone}", UriKind.Relative));
        return response.StatusCode == HttpStatusCode.NotFound ? null : await response.JsonAsync();
    }

    [Fact]
    public async Task DryRun_ListsEveryBadRow_WithItsColumnAndCode_AndWritesNothing()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var good = LoyaltyApp.NewPhone();
        var twice = LoyaltyApp.NewPhone();
        var csv = $"""
            phone,name,storeId,birthday
            {good},王小明,sh-001,1990-05-01
            12345,李四,sh-001,
            {twice},张三,xx-999,
            {twice},张三,sh-001,
            {LoyaltyApp.NewPhone()},赵六,sh-001,1990-13-45
            """;

        var response = await admin.SendAsync(Upload("/api/batches?kind=members&dryRun=true", Utf8Csv(csv), "text/csv", null));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var view = await response.JsonAsync();
        Assert.Equal(5, view.GetProperty("rows").GetInt32());
        Assert.Equal(2, view.GetProperty("valid").GetInt32());
        Assert.Equal(3, view.GetProperty("invalid").GetInt32());
        var errors = view.GetProperty("errors").EnumerateArray().Select(e => (e.GetProperty("row").GetInt32(), e.GetProperty("column").GetString(), e.GetProperty("code").GetString())).ToList();
        Assert.Contains((3, "phone", "phone_invalid"), errors);
        Assert.Contains((4, "storeId", "store_unknown"), errors);
        Assert.Contains((6, "birthday", "birthday_invalid"), errors);
        Assert.DoesNotContain(errors, e => e.Item1 == 5);
        Assert.Null(await FindByPhoneAsync(admin, good));
    }

    [Fact]
    public async Task MemberImport_EnrolsEachRowOnce_WithOpeningBalancesAsOneLedgerEntry_AndReplaysUnderItsKey()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (first, second, third) = (LoyaltyApp.NewPhone(), LoyaltyApp.NewPhone(), LoyaltyApp.NewPhone());
        var csv = $"""
            phone,name,storeId,cardNumber,tier,principal,bonus,points,reason
            {first},王小明,sh-001,,silver,50000,5000,1200,旧系统 A001
            {second},李四,hz-001,,,,,,
            {third},张三,gz-001,,,10000,,,旧系统 A003
            """;
        var key = Guid.NewGuid().ToString();

        var accepted = await admin.SendAsync(Upload("/api/batches?kind=members", Utf8Csv(csv, bom: true), "text/csv", key));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var batch = await accepted.JsonAsync();
        var batchId = batch.GetProperty("batchId").GetString()!;
        Assert.Equal($"/api/batches/{batchId}", accepted.Headers.Location!.AbsolutePath);
        var done = await WaitFinishedAsync(admin, batchId);

        Assert.Equal("completed", done.GetProperty("status").GetString());
        Assert.Equal(3, done.GetProperty("done").GetInt32());
        Assert.Equal(0, done.GetProperty("failed").GetInt32());
        var member = (await FindByPhoneAsync(admin, first))!.Value;
        var memberId = member.GetProperty("memberId").GetString()!;
        Assert.Equal("silver", member.GetProperty("tier").GetString());
        Assert.Equal((1200, 50000, 5000), await admin.BalancesAsync(memberId));
        var ledger = (await admin.GetJsonAsync($"/api/members/{memberId}/ledger")).GetProperty("items");
        var opening = Assert.Single(ledger.EnumerateArray());
        Assert.Equal("opening", opening.GetProperty("type").GetString());
        Assert.Equal(batchId, opening.GetProperty("reference").GetString());
        var report = await app.Services.GetRequiredService<Reconciler>().RunAsync(new HashSet<string> { memberId });
        Assert.Empty(report.Discrepancies);

        // The same upload under its key answers the same batch; the same file under a new key is refused as a repeat.
        var replay = await admin.SendAsync(Upload("/api/batches?kind=members", Utf8Csv(csv, bom: true), "text/csv", key));
        Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);
        Assert.Equal(batchId, (await replay.JsonAsync()).GetProperty("batchId").GetString());
        var again = await admin.SendAsync(Upload("/api/batches?kind=members", Utf8Csv(csv, bom: true), "text/csv", Guid.NewGuid().ToString()));
        await again.AssertProblemAsync(HttpStatusCode.Conflict, "batch_duplicate_file");

        // Forced through, every row is reported as a member who exists; nobody is duplicated or changed.
        var forced = await admin.SendAsync(Upload("/api/batches?kind=members&repeat=true", Utf8Csv(csv, bom: true), "text/csv", Guid.NewGuid().ToString()));
        Assert.Equal(HttpStatusCode.Accepted, forced.StatusCode);
        var forcedId = (await forced.JsonAsync()).GetProperty("batchId").GetString()!;
        var forcedDone = await WaitFinishedAsync(admin, forcedId);
        Assert.Equal(3, forcedDone.GetProperty("failed").GetInt32());
        Assert.Equal(memberId, (await FindByPhoneAsync(admin, first))!.Value.GetProperty("memberId").GetString());
        Assert.Equal((1200, 50000, 5000), await admin.BalancesAsync(memberId));
        var failedReport = Encoding.UTF8.GetString(await admin.GetByteArrayAsync($"/api/batches/{forcedId}/report?format=csv"));
        Assert.Contains("2,duplicate_phone,", failedReport, StringComparison.Ordinal);
        Assert.Contains("4,duplicate_phone,", failedReport, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Gb18030Csv_AndXlsx_AreReadAsWritten()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (gbPhone, xlsxPhone) = (LoyaltyApp.NewPhone(), LoyaltyApp.NewPhone());
        var gb = BatchFileEncoding.Gb18030.GetBytes($"phone,name,storeId\r\n{gbPhone},欧阳娜娜,sh-001\r\n");
        var xlsx = SpreadsheetExport.Xlsx("Members", ["phone", "name", "storeId", "birthday"], [[xlsxPhone, "司马光", "hz-001", "1988-02-29"]]);

        var fromGb = await admin.SendAsync(Upload("/api/batches?kind=members", gb, "text/csv", Guid.NewGuid().ToString()));
        var fromXlsx = await admin.SendAsync(Upload("/api/batches?kind=members", xlsx, Xlsx, Guid.NewGuid().ToString()));

        Assert.Equal(HttpStatusCode.Accepted, fromGb.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, fromXlsx.StatusCode);
        await WaitFinishedAsync(admin, (await fromGb.JsonAsync()).GetProperty("batchId").GetString()!);
        await WaitFinishedAsync(admin, (await fromXlsx.JsonAsync()).GetProperty("batchId").GetString()!);
        Assert.Equal("欧阳娜娜", (await FindByPhoneAsync(admin, gbPhone))!.Value.GetProperty("name").GetString());
        var member = (await FindByPhoneAsync(admin, xlsxPhone))!.Value;
        Assert.Equal("司马光", member.GetProperty("name").GetString());
    }

    [Fact]
    public async Task BadFiles_AreRefusedWithTheirReason_BeforeAnythingIsWritten()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var phone = LoyaltyApp.NewPhone();
        async Task<HttpResponseMessage> PostAsync(byte[] file, string type) => await admin.SendAsync(Upload("/api/batches?kind=members", file, type, Guid.NewGuid().ToString()));

        await (await PostAsync(Utf8Csv($"phone,name,store\n{phone},A,sh-001\n"), "text/csv")).AssertProblemAsync(HttpStatusCode.BadRequest, "header_invalid");
        await (await PostAsync(Utf8Csv($"phone,name,storeId\n{phone},=HYPERLINK(\"http://x\"),sh-001\n"), "text/csv")).AssertProblemAsync(HttpStatusCode.BadRequest, "formula_injection");
        await (await PostAsync([.. Encoding.ASCII.GetBytes("phone,name,storeId\n"), 0xC3, 0x28, .. Encoding.ASCII.GetBytes(",A,sh-001\n")], "text/csv; charset=utf-8"))
            .AssertProblemAsync(HttpStatusCode.BadRequest, "encoding_invalid");
        await (await PostAsync(Utf8Csv("phone,name,storeId\n" + string.Concat(Enumerable.Range(0, 51).Select(i => $"139{i:D8},A,sh-001\n"))), "text/csv"))
            .AssertProblemAsync(HttpStatusCode.BadRequest, "batch_too_many_rows");
        await (await PostAsync(new byte[70 * 1024], "text/csv")).AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge, "batch_too_large");
        await (await PostAsync(ZipBomb(), Xlsx)).AssertProblemAsync(HttpStatusCode.BadRequest, "file_unsafe");
        await (await PostAsync(Utf8Csv("{}"), "application/json")).AssertProblemAsync(HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");

        Assert.Null(await FindByPhoneAsync(admin, phone));
    }

    [Fact]
    public async Task BadRequests_AnswerProblemsWithTheirCodes()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var file = Utf8Csv($"phone,name,storeId\n{LoyaltyApp.NewPhone()},A,sh-001\n");

        await (await admin.SendAsync(Upload("/api/batches", file, "text/csv", Guid.NewGuid().ToString()))).AssertProblemAsync(HttpStatusCode.BadRequest, "batch_kind_invalid");
        await (await admin.SendAsync(Upload("/api/batches?kind=members", file, "text/csv", null))).AssertProblemAsync(HttpStatusCode.BadRequest, "idempotency_key_required");
        await (await admin.SendAsync(Upload("/api/batches?kind=top-ups", Utf8Csv("phone,amount\n"), "text/csv", Guid.NewGuid().ToString()))).AssertProblemAsync(HttpStatusCode.BadRequest, "store_required");
        await (await admin.SendAsync(Upload("/api/batches?kind=members", Utf8Csv("phone,name,storeId\n"), "text/csv", Guid.NewGuid().ToString()))).AssertProblemAsync(HttpStatusCode.BadRequest, "batch_empty");
        await (await admin.GetAsync(new Uri("/api/batches/B0000000000000000000", UriKind.Relative))).AssertProblemAsync(HttpStatusCode.NotFound, "batch_not_found");
        await (await admin.PostAsync("/api/batches/nonsense/cancel", new { }, null)).AssertProblemAsync(HttpStatusCode.NotFound, "batch_not_found");

        var key = Guid.NewGuid().ToString();
        var accepted = await admin.SendAsync(Upload("/api/batches?kind=members", file, "text/csv", key));
        var batchId = (await accepted.JsonAsync()).GetProperty("batchId").GetString()!;
        await WaitFinishedAsync(admin, batchId);
        await (await admin.SendAsync(Upload("/api/batches?kind=members", Utf8Csv("phone,name,storeId\n13900000000,B,sh-001\n"), "text/csv", key)))
            .AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "idempotency_key_reused");
        await (await admin.GetAsync(new Uri($"/api/batches/{batchId}/report?format=pdf", UriKind.Relative))).AssertProblemAsync(HttpStatusCode.BadRequest, "format_invalid");
        await (await admin.PostAsync($"/api/batches/{batchId}/cancel", new { }, null)).AssertProblemAsync(HttpStatusCode.Conflict, "batch_finished");
    }

    [Fact]
    public async Task Batches_AreForHqRolesOnly()
    {
        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        var response = await terminal.SendAsync(Upload("/api/batches?kind=members&dryRun=true", Utf8Csv("phone,name,storeId\n"), "text/csv", null));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task TopUpBatch_TopsUpByIdCardOrPhone_WithTheBands_AndReportsAnUnknownMember()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (byId, _) = await app.EnrolAsync();
        var (byCardId, card) = await app.EnrolAsync();
        var phone = LoyaltyApp.NewPhone();
        var enrolled = await admin.EnrolAsync(new { phone, name = "王五", storeId = "sh-001" }, Guid.NewGuid().ToString());
        var byPhone = (await enrolled.JsonAsync()).GetProperty("memberId").GetString()!;
        var csv = $"""
            memberId,cardNumber,phone,amount,bonus
            {byId},,,10000,
            ,{card},,20000,1500
            ,,{phone},30000,
            M0000000000ZZ,,,10000,
            """;

        var accepted = await admin.SendAsync(Upload("/api/batches?kind=top-ups&storeId=sh-001", Utf8Csv(csv), "text/csv", Guid.NewGuid().ToString()));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var done = await WaitFinishedAsync(admin, (await accepted.JsonAsync()).GetProperty("batchId").GetString()!);

        Assert.Equal(3, done.GetProperty("done").GetInt32());
        Assert.Equal(1, done.GetProperty("failed").GetInt32());
        Assert.Equal(10000, (await admin.BalancesAsync(byId)).Principal);
        Assert.Equal((0L, 20000L, 1500L), await admin.BalancesAsync(byCardId));
        Assert.Equal(30000, (await admin.BalancesAsync(byPhone)).Principal);
        var ledger = (await admin.GetJsonAsync($"/api/members/{byId}/ledger")).GetProperty("items");
        Assert.Equal("top_up.hq_batch", Assert.Single(ledger.EnumerateArray()).GetProperty("reason").GetString());
        var report = Encoding.UTF8.GetString(await admin.GetByteArrayAsync($"/api/batches/{done.GetProperty("batchId").GetString()}/report"));
        Assert.Contains("5,member_not_found,", report, StringComparison.Ordinal);
        var workbook = await admin.GetByteArrayAsync($"/api/batches/{done.GetProperty("batchId").GetString()}/report?format=xlsx");
        using var xlsx = DocumentFormat.OpenXml.Packaging.SpreadsheetDocument.Open(new MemoryStream(workbook), false);
        var cells = xlsx.WorkbookPart!.WorksheetParts.Single().Worksheet.Descendants<DocumentFormat.OpenXml.Spreadsheet.Cell>().Select(c => c.InnerText).ToList();
        Assert.Contains("member_not_found", cells);
    }

    /// <summary>A zip whose one part unpacks 2 MiB of zeros from a few KiB.</summary>
    private static byte[] ZipBomb()
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            using var entry = zip.CreateEntry("xl/worksheets/sheet1.xml", CompressionLevel.SmallestSize).Open();
            entry.Write(new byte[2 * 1024 * 1024]);
        }

        return buffer.ToArray();
    }
}

/// <summary>GB18030 for the tests (the code-page provider, as the app registers it).</summary>
internal static class BatchFileEncoding
{
    public static Encoding Gb18030 => Loyalty.Functions.Batches.BatchFile.Gb18030;
}
