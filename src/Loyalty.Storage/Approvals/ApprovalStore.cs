using Azure.Data.Tables;
using System.Text.Json;
using Azure;
using Loyalty.Domain.Approvals;
using Loyalty.Storage.Config;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;

namespace Loyalty.Storage.Approvals;

/// <summary>One step in an approval's trail: who did what, when.</summary>
/// <param name="At">When.</param>
/// <param name="Kind">requested, waiting, approved, rejected, escalated, expired, applied, failed.</param>
/// <param name="Level">The level concerned, if any.</param>
/// <param name="By">The principal (or <c>system</c>).</param>
/// <param name="Comment">The decider's comment, or what happened.</param>
public sealed record ApprovalStep(DateTimeOffset At, string Kind, ApprovalLevel? Level, string By, string? Comment);

/// <summary>A decision taken over HTTP and not yet acted on by the approval's orchestration.</summary>
public sealed record ApprovalDecision(int Stage, bool Approve, string By, string? Comment, DateTimeOffset At);

/// <summary>An approval request and where it stands.</summary>
/// <param name="Id">The approval id.</param>
/// <param name="Action">What it asks to do.</param>
/// <param name="Amount">Points, or fen, depending on the action.</param>
/// <param name="NodeId">The store the request belongs to (HQ for chain-wide requests).</param>
/// <param name="MemberId">The member concerned, if any.</param>
/// <param name="Subject">What the request is about, for people (e.g. a card's last digits or a campaign id).</param>
/// <param name="Reason">The requester's reason.</param>
/// <param name="RequestedBy">The requesting principal.</param>
/// <param name="Payload">What applying it needs (JSON, per action).</param>
/// <param name="Fingerprint">Hash of the original request: the same id with a different request is refused.</param>
/// <param name="Stages">The route.</param>
/// <param name="StageIndex">The stage waiting (or that decided last).</param>
/// <param name="DueAt">When the waiting stage runs out of time.</param>
/// <param name="Status">pending, approved, applied, rejected, expired, failed.</param>
/// <param name="Steps">The trail.</param>
/// <param name="Decision">A decision recorded for the waiting stage, not yet acted on.</param>
/// <param name="Result">What applying it did (JSON), or why it failed.</param>
/// <param name="CreatedAt">When it was requested.</param>
public sealed record ApprovalRecord(
    string Id,
    ApprovalAction Action,
    long Amount,
    string NodeId,
    string? MemberId,
    string Subject,
    string Reason,
    string RequestedBy,
    string Payload,
    string Fingerprint,
    IReadOnlyList<ApprovalStage> Stages,
    int StageIndex,
    DateTimeOffset? DueAt,
    string Status,
    IReadOnlyList<ApprovalStep> Steps,
    ApprovalDecision? Decision,
    string? Result,
    DateTimeOffset CreatedAt)
{
    /// <summary>The row's ETag as read.</summary>
    public ETag ETag { get; init; }

    /// <summary>The waiting stage.</summary>
    public ApprovalStage Stage => Stages[Math.Min(StageIndex, Stages.Count - 1)];

    /// <summary>True while a level is to decide.</summary>
    public bool IsPending => Status == ApprovalStore.Pending;
}

/// <summary>
/// Approval requests in the <c>Approvals</c> table. They are few (thousands a day at most), so they share one
/// partition: the record row <c>a-{id}</c> and, while a level is to decide, an index row <c>pending-{id}</c> carrying
/// the stage's level and node, written in the same transaction as the record so listing never scans finished requests.
/// </summary>
public sealed class ApprovalStore(TableStore store)
{
    /// <summary>Statuses.</summary>
    public const string Pending = "pending";

    /// <summary>Every status an approval can have.</summary>
    public static readonly IReadOnlyList<string> Statuses = [Pending, "approved", "applied", "rejected", "expired", "failed"];

    private const string Partition = "approvals";
    private const string RecordPrefix = "a-";
    private const string PendingPrefix = "pending-";

    /// <summary>Creates the record (pending, first stage waiting); false when one with this id exists already.</summary>
    public async Task<bool> CreateAsync(ApprovalRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        try
        {
            await store.Approvals.SubmitTransactionAsync(Rows(record, TableTransactionActionType.Add, null), cancellationToken);
            return true;
        }
        catch (TableTransactionFailedException ex) when (ex.Status == 409)
        {
            return false;
        }
    }

    /// <summary>Reads a record; null when there is none.</summary>
    public async Task<ApprovalRecord?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        var row = await store.Approvals.FindEntityAsync(Partition, RecordPrefix + id, cancellationToken);
        return row is null ? null : FromRow(row);
    }

    /// <summary>
    /// Replaces a record read earlier (If-Match on its ETag), keeping the pending index in step: written while pending,
    /// removed once finished. Returns false when someone else changed it first.
    /// </summary>
    public async Task<bool> ReplaceAsync(ApprovalRecord before, ApprovalRecord after, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        try
        {
            await store.Approvals.SubmitTransactionAsync(Rows(after, TableTransactionActionType.UpdateReplace, before), cancellationToken);
            return true;
        }
        catch (TableTransactionFailedException ex) when (ex.Status is 412 or 404 or 409)
        {
            return false;
        }
    }

    /// <summary>Pending requests (from the index; each checked against its record by the caller when it matters).</summary>
    public async Task<IReadOnlyList<(string Id, ApprovalLevel Level, string ScopeId)>> ListPendingAsync(CancellationToken cancellationToken = default)
    {
        var list = new List<(string, ApprovalLevel, string)>();
        await foreach (var row in store.Approvals.QueryAsync<TableEntity>(TableFilter.PartitionRowPrefix(Partition, PendingPrefix), cancellationToken: cancellationToken))
        {
            list.Add((row.RowKey[PendingPrefix.Length..], Enum.Parse<ApprovalLevel>(row.GetString("Level")!), row.GetString("ScopeId")!));
        }

        return list;
    }

    /// <summary>A page of records with a status, oldest first.</summary>
    public async Task<(IReadOnlyList<ApprovalRecord> Items, TableContinuation? Next)> ListAsync(string status, int max, TableContinuation? continuation, CancellationToken cancellationToken = default)
    {
        var filter = $"{TableFilter.PartitionRowPrefix(Partition, RecordPrefix)} and Status eq {TableFilter.Quote(status)}";
        var page = await store.Approvals.QueryPageAsync(filter, max, continuation, cancellationToken: cancellationToken);
        return ([.. page.Items.Select(FromRow)], page.Continuation);
    }

    private static List<TableTransactionAction> Rows(ApprovalRecord record, TableTransactionActionType type, ApprovalRecord? before)
    {
        var rows = new List<TableTransactionAction> { new(type, ToRow(record), before?.ETag ?? default) };
        var index = new TableEntity(Partition, PendingPrefix + record.Id)
        {
            ["Level"] = record.Stage.Level.ToString(),
            ["ScopeId"] = record.Stage.ScopeId,
        };
        if (record.IsPending)
        {
            rows.Add(new(before?.IsPending == true ? TableTransactionActionType.UpdateReplace : TableTransactionActionType.Add, index, ETag.All));
        }
        else if (before?.IsPending == true)
        {
            rows.Add(new(TableTransactionActionType.Delete, index, ETag.All));
        }

        return rows;
    }

    private static TableEntity ToRow(ApprovalRecord r)
    {
        var row = new TableEntity(Partition, RecordPrefix + r.Id)
        {
            ["Action"] = r.Action.ToString(),
            ["Amount"] = r.Amount,
            ["NodeId"] = r.NodeId,
            ["Subject"] = r.Subject,
            ["Reason"] = r.Reason,
            ["RequestedBy"] = r.RequestedBy,
            ["Payload"] = r.Payload,
            ["Fingerprint"] = r.Fingerprint,
            ["Stages"] = JsonSerializer.Serialize(r.Stages, ConfigJson.Options),
            ["StageIndex"] = r.StageIndex,
            ["Status"] = r.Status,
            ["Steps"] = JsonSerializer.Serialize(r.Steps, ConfigJson.Options),
            ["CreatedAt"] = r.CreatedAt,
        };
        if (r.MemberId is not null)
        {
            row["MemberId"] = r.MemberId;
        }

        if (r.DueAt is { } due)
        {
            row["DueAt"] = due;
        }

        if (r.Decision is not null)
        {
            row["Decision"] = JsonSerializer.Serialize(r.Decision, ConfigJson.Options);
        }

        if (r.Result is not null)
        {
            row["Result"] = r.Result;
        }

        return row;
    }

    private static ApprovalRecord FromRow(TableEntity row) => new(
        row.RowKey[RecordPrefix.Length..],
        Enum.Parse<ApprovalAction>(row.GetString("Action")!),
        row.GetInt64("Amount") ?? 0,
        row.GetString("NodeId")!,
        row.GetString("MemberId"),
        row.GetString("Subject") ?? string.Empty,
        row.GetString("Reason") ?? string.Empty,
        row.GetString("RequestedBy")!,
        row.GetString("Payload") ?? "{}",
        row.GetString("Fingerprint") ?? string.Empty,
        JsonSerializer.Deserialize<List<ApprovalStage>>(row.GetString("Stages")!, ConfigJson.Options)!,
        row.GetInt32("StageIndex") ?? 0,
        row.GetDateTimeOffset("DueAt"),
        row.GetString("Status")!,
        JsonSerializer.Deserialize<List<ApprovalStep>>(row.GetString("Steps") ?? "[]", ConfigJson.Options)!,
        row.GetString("Decision") is { } d ? JsonSerializer.Deserialize<ApprovalDecision>(d, ConfigJson.Options) : null,
        row.GetString("Result"),
        row.GetDateTimeOffset("CreatedAt") ?? default)
    {
        ETag = row.ETag,
    };
}
