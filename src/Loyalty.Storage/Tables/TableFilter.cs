namespace Loyalty.Storage.Tables;

/// <summary>Builds OData filter expressions with values quoted safely.</summary>
public static class TableFilter
{
    /// <summary>A quoted string literal: single quotes doubled.</summary>
    public static string Quote(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
    }

    /// <summary><c>PartitionKey eq '...'</c>.</summary>
    public static string Partition(string partitionKey) => $"PartitionKey eq {Quote(partitionKey)}";

    /// <summary>Rows of a partition whose row key starts with <paramref name="prefix"/>.</summary>
    public static string PartitionRowPrefix(string partitionKey, string prefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        var upper = prefix[..^1] + (char)(prefix[^1] + 1);
        return $"{Partition(partitionKey)} and RowKey ge {Quote(prefix)} and RowKey lt {Quote(upper)}";
    }
}
