using Azure;

namespace Loyalty.Storage.Tables;

/// <summary>An entity-group transaction was rejected as a whole; nothing of it was written.</summary>
public sealed class TableTransactionFailedException : RequestFailedException
{
    /// <summary>Creates the exception.</summary>
    public TableTransactionFailedException(int status, string message, string? errorCode, int? failedIndex)
        : base(status, message, errorCode, null) => FailedIndex = failedIndex;

    /// <summary>Zero-based index of the operation the service blamed, when it said.</summary>
    public int? FailedIndex { get; }
}
