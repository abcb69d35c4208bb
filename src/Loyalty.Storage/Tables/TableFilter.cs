using Azure.Data.Tables;

namespace Loyalty.Storage.Tables;

/// <summary>Filters the app uses often, with values quoted by the SDK (<see cref="TableClient.CreateQueryFilter(FormattableString)"/>).</summary>
public static class TableFilter
{
    /// <summary>A quoted string literal.</summary>
    public static string Quote(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return TableClient.CreateQueryFilter($"{value}");
    }

    /// <summary><c>PartitionKey eq '...'</c>.</summary>
    public static string Partition(string partitionKey) => TableClient.CreateQueryFilter($"PartitionKey eq {partitionKey}");

    /// <summary>Rows of a partition whose row key starts with <paramref name="prefix"/>.</summary>
    public static string PartitionRowPrefix(string partitionKey, string prefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        var upper = prefix[..^1] + (char)(prefix[^1] + 1);
        return TableClient.CreateQueryFilter($"PartitionKey eq {partitionKey} and RowKey ge {prefix} and RowKey lt {upper}");
    }
}
