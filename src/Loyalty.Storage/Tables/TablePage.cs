namespace Loyalty.Storage.Tables;

/// <summary>Continuation of a table query: the next partition and row key, opaque to callers.</summary>
/// <param name="NextPartitionKey">Value of x-ms-continuation-NextPartitionKey.</param>
/// <param name="NextRowKey">Value of x-ms-continuation-NextRowKey (may be absent).</param>
public sealed record TableContinuation(string NextPartitionKey, string? NextRowKey);

/// <summary>One page of query results.</summary>
/// <param name="Items">The rows.</param>
/// <param name="Continuation">Where the next page starts; null at the end.</param>
public sealed record TablePage(IReadOnlyList<TableEntity> Items, TableContinuation? Continuation);
