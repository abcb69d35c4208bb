using Azure;

namespace Loyalty.Storage.Tables;

/// <summary>What one operation of an entity-group transaction does.</summary>
public enum TableTransactionActionType
{
    /// <summary>Insert; fails with 409 if the row exists.</summary>
    Add,
    /// <summary>Replace an existing row (If-Match on the action's ETag).</summary>
    UpdateReplace,
    /// <summary>Merge into an existing row (If-Match on the action's ETag).</summary>
    UpdateMerge,
    /// <summary>Insert or replace.</summary>
    UpsertReplace,
    /// <summary>Insert or merge.</summary>
    UpsertMerge,
    /// <summary>Delete (If-Match on the action's ETag).</summary>
    Delete,
}

/// <summary>One operation in an entity-group transaction; all operations share one partition key.</summary>
/// <param name="ActionType">What to do.</param>
/// <param name="Entity">The row (for deletes only its keys matter).</param>
/// <param name="IfMatch">Concurrency condition for updates and deletes; <see cref="ETag.All"/> means unconditional.</param>
public sealed record TableTransactionAction(TableTransactionActionType ActionType, TableEntity Entity, ETag IfMatch = default);
