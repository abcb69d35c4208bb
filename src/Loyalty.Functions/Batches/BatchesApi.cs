using Loyalty.Domain.Auth;
using Loyalty.Functions.Durable;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Http;
using Loyalty.Storage.Org;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Batches;

/// <summary>The answer of a dry run, and of an upload refused for a cell a spreadsheet would run.</summary>
internal sealed record BatchCheckView(string Kind, string Encoding, int Rows, int Valid, int Invalid, IReadOnlyList<BatchError> Errors, bool ErrorsTruncated);

/// <summary>The answer of an accepted upload (202) and of the status call.</summary>
internal sealed record BatchView(
    string BatchId,
    string Kind,
    string Status,
    int Rows,
    int Done,
    int Failed,
    int Remaining,
    string? StoreId,
    string CreatedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset? FinishedAt,
    string StatusUri,
    string ReportUri,
    string CancelPostUri,
    ManagementLinks Orchestration);

/// <summary>
/// HQ batches over HTTP (HQ admins and ops): <c>POST /api/batches?kind={members|top-ups}</c> takes a CSV or XLSX file as
/// the request body (a dry run with <c>?dryRun=true</c>), <c>GET /api/batches/{id}</c> shows its progress,
/// <c>POST /api/batches/{id}/cancel</c> stops it between chunks, and <c>GET /api/batches/{id}/report</c> lists the
/// rows that failed (CSV or XLSX).
/// </summary>
internal sealed class BatchesApi(BatchStore batches, OrgStore org, Programme.ProgrammeConfig programme, TimeProvider time, IOptions<LoyaltyOptions> options)
{
    [Function("UploadBatch")]
    [ApiKey(Role.HqAdmin, Role.Ops)]
    public async Task<IResult> UploadAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "batches")] HttpRequest request, [DurableClient] DurableTaskClient durable)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(durable);
        var http = request.HttpContext;
        var kind = request.Query["kind"].ToString();
        var ct = http.RequestAborted;
        var batchKind = kind switch
        {
            "members" => BatchKind.Members,
            "top-ups" => BatchKind.TopUps,
            _ => (BatchKind?)null,
        };
        if (batchKind is null)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "batch_kind_invalid", "kind is members or top-ups.", "kind");
        }

        var dryRun = string.Equals(request.Query["dryRun"], "true", StringComparison.OrdinalIgnoreCase);
        string? key = null;
        if (!dryRun)
        {
            (key, var keyProblem) = IdempotencyKey.Read(request);
            if (keyProblem is not null)
            {
                return keyProblem;
            }
        }

        var caller = http.Caller();
        var tree = await org.GetRequiredAsync(ct);
        var storeId = request.Query["storeId"].ToString();
        if (batchKind == BatchKind.TopUps && Ledger.MemberOperation.CheckStore(caller, tree, storeId) is { } storeProblem)
        {
            return storeProblem;
        }

        string? blob = null;
        try
        {
            var (format, charset) = BatchFile.Describe(request.ContentType);
            if (request.ContentLength > options.Value.MaxBatchBytes)
            {
                throw new BatchFileException(StatusCodes.Status413PayloadTooLarge, "batch_too_large", $"A batch file is at most {options.Value.MaxBatchBytes / (1024 * 1024)} MiB.");
            }

            (blob, var sha, _) = await batches.UploadAsync(request.Body, options.Value.MaxBatchBytes, ct);
            var requestHash = Storage.Schema.Hashing.Sha256Hex($"{batchKind}\n{sha}\n{storeId}\n{request.Query["repeat"]}");
            var batchId = key is null ? null : BatchStore.BatchId(caller.Id, key);
            if (batchId is not null && await batches.GetAsync(batchId, ct) is { } earlier)
            {
                // The same upload again (a retry): answer what the first one answered, starting the orchestration if the
                // first attempt stopped before it did; another file under the key is an error.
                if (earlier.RequestHash != requestHash)
                {
                    return IdempotencyKey.Mismatch();
                }

                await durable.StartOnceAsync(BatchImport.Name, new BatchStart(earlier.BatchId), earlier.BatchId, ct);
                return await AcceptedAsync(http, earlier, durable, replayed: true);
            }

            var context = new BatchCheckContext(tree, await programme.GetRulesAsync(ct), options.Value.LocalDay(time.GetUtcNow()), storeId);
            var check = await BatchCheck.RunAsync(batches, blob, format, charset, batchKind.Value, context, caller.Id, options.Value.MaxBatchRows, null, ct);
            var view = new BatchCheckView(kind, check.Encoding, check.Rows, check.Valid, check.Invalid, check.Errors, check.ErrorsTruncated);
            if (dryRun)
            {
                return TypedResults.Ok(view);
            }

            if (check.Errors.Any(e => e.Code == "formula_injection"))
            {
                // A cell a spreadsheet would run refuses the whole file: it came from somewhere that should not be trusted.
                return Problems.Create(StatusCodes.Status400BadRequest, "formula_injection",
                    $"Row {check.Errors.First(e => e.Code == "formula_injection").Row} holds a cell a spreadsheet would run as a formula; nothing was imported. Check the file with ?dryRun=true.");
            }

            if (check.Rows == 0)
            {
                return Problems.Create(StatusCodes.Status400BadRequest, "batch_empty", "The file has a header but no rows.");
            }

            if (await batches.ClaimFileAsync(batchKind.Value, sha, batchId!, ct) is { } owner && !string.Equals(request.Query["repeat"], "true", StringComparison.OrdinalIgnoreCase))
            {
                return Problems.Create(StatusCodes.Status409Conflict, "batch_duplicate_file",
                    $"This file was imported as batch {owner}. To apply it again (e.g. a monthly top-up), post it with ?repeat=true.");
            }

            var record = new BatchRecord(batchId!, batchKind.Value, format, check.Encoding, blob, sha, requestHash, storeId, caller.Id, time.GetUtcNow(), check.Rows);
            if (!await batches.AddAsync(record, ct))
            {
                // The same key raced us: the batch recorded is the answer.
                await batches.DeleteAsync(blob);
                var raced = await batches.GetAsync(batchId!, ct);
                return raced is not null && raced.RequestHash == requestHash ? await AcceptedAsync(http, raced, durable, replayed: true) : IdempotencyKey.Mismatch();
            }

            blob = null;
            await durable.StartOnceAsync(BatchImport.Name, new BatchStart(record.BatchId), record.BatchId, ct);
            return await AcceptedAsync(http, record, durable, replayed: false);
        }
        catch (BatchFileException ex)
        {
            return Problems.Create(ex.Status, ex.Code, ex.Message);
        }
        finally
        {
            if (blob is not null)
            {
                await batches.DeleteAsync(blob);
            }
        }
    }

    [Function("GetBatch")]
    [ApiKey(Role.HqAdmin, Role.Ops)]
    public async Task<IResult> GetAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "batches/{batchId}")] HttpRequest request, [DurableClient] DurableTaskClient durable, string batchId)
    {
        ArgumentNullException.ThrowIfNull(request);
        var record = await FindAsync(batchId, request.HttpContext.RequestAborted);
        return record is null ? NotFound(batchId) : TypedResults.Ok(await ViewAsync(request.HttpContext, record, durable));
    }

    [Function("CancelBatch")]
    [ApiKey(Role.HqAdmin, Role.Ops)]
    public async Task<IResult> CancelAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "batches/{batchId}/cancel")] HttpRequest request, [DurableClient] DurableTaskClient durable, string batchId)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(durable);
        var ct = request.HttpContext.RequestAborted;
        var record = await FindAsync(batchId, ct);
        if (record is null)
        {
            return NotFound(batchId);
        }

        var instance = await durable.GetInstanceAsync(batchId, ct);
        if (instance is null || instance.IsCompleted)
        {
            return Problems.Create(StatusCodes.Status409Conflict, "batch_finished", $"Batch {batchId} has finished ({record.Status}); nothing is left to cancel.");
        }

        await durable.RaiseEventAsync(batchId, BatchImport.CancelEvent, "cancel", ct);
        return TypedResults.Accepted($"/api/batches/{batchId}", await ViewAsync(request.HttpContext, record, durable));
    }

    [Function("GetBatchReport")]
    [ApiKey(Role.HqAdmin, Role.Ops)]
    public async Task<IResult> ReportAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "batches/{batchId}/report")] HttpRequest request, string batchId)
    {
        ArgumentNullException.ThrowIfNull(request);
        var ct = request.HttpContext.RequestAborted;
        var record = await FindAsync(batchId, ct);
        if (record is null)
        {
            return NotFound(batchId);
        }

        var format = request.Query["format"].ToString() is { Length: > 0 } f ? f : "csv";
        if (format is not ("csv" or "xlsx"))
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "format_invalid", "format is csv or xlsx.", "format");
        }

        var failed = new List<BatchRowResult>();
        foreach (var blob in await batches.ListAsync($"{batchId}/results/", ct))
        {
            failed.AddRange((await batches.ReadJsonAsync<List<BatchRowResult>>(blob, ct) ?? []).Where(r => !r.Applied));
        }

        string[] headers = ["row", "code", "message"];
        // A row appears once even if an engine hand-out ran a chunk's part twice.
        var rows = failed.GroupBy(r => r.Row).Select(g => g.First()).OrderBy(r => r.Row).Select(r => new object?[] { r.Row, r.Code, r.Message }).ToList();
        var file = $"batch-{batchId}-failed";
        return format == "csv"
            ? Results.File(SpreadsheetExport.Csv(headers, rows), "text/csv; charset=utf-8", file + ".csv")
            : Results.File(SpreadsheetExport.Xlsx("Failed rows", headers, rows), BatchFile.XlsxMediaType, file + ".xlsx");
    }

    private async Task<BatchRecord?> FindAsync(string batchId, CancellationToken ct) =>
        batchId is { Length: 20 } && batchId[0] == 'B' && batchId.Skip(1).All(char.IsAsciiLetterOrDigit) ? await batches.GetAsync(batchId, ct) : null;

    private static IResult NotFound(string batchId) => Problems.Create(StatusCodes.Status404NotFound, "batch_not_found", $"No batch '{batchId}'.");

    private static async Task<IResult> AcceptedAsync(HttpContext http, BatchRecord record, DurableTaskClient durable, bool replayed)
    {
        var view = await ViewAsync(http, record, durable);
        http.Response.Headers.Location = view.StatusUri;
        if (replayed)
        {
            http.Response.Headers["Idempotent-Replayed"] = "true";
        }

        return TypedResults.Accepted(view.StatusUri, view);
    }

    private static async Task<BatchView> ViewAsync(HttpContext http, BatchRecord record, DurableTaskClient durable)
    {
        var instance = await durable.GetInstanceAsync(record.BatchId, getInputsAndOutputs: true, http.RequestAborted);
        var progress = instance?.SerializedCustomStatus is { Length: > 0 } status
            ? System.Text.Json.JsonSerializer.Deserialize<BatchProgress>(status, JsonDefaults.Options)
            : null;
        var state = record.Status != "accepted"
            ? record.Status
            : instance?.RuntimeStatus switch
            {
                OrchestrationRuntimeStatus.Running => "running",
                OrchestrationRuntimeStatus.Failed => "failed",
                OrchestrationRuntimeStatus.Terminated => "terminated",
                OrchestrationRuntimeStatus.Completed => "completed",
                _ => "accepted",
            };
        var done = record.Status == "accepted" ? progress?.Done ?? 0 : record.Applied;
        var failed = record.Status == "accepted" ? progress?.Failed ?? 0 : record.Failed;
        var root = $"{http.Request.Scheme}://{http.Request.Host}/api/batches/{record.BatchId}";
        return new BatchView(
            record.BatchId, record.Kind == BatchKind.Members ? "members" : "top-ups", state, record.Rows, done, failed, Math.Max(0, record.Rows - done - failed),
            record.StoreId is { Length: > 0 } store ? store : null, record.CreatedBy, record.CreatedAt, record.FinishedAt, root, root + "/report", root + "/cancel", OrchestrationsApi.Links(http, record.BatchId));
    }
}
