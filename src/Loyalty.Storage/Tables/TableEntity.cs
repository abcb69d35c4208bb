using System.Globalization;
using Azure;

namespace Loyalty.Storage.Tables;

/// <summary>
/// A table row: keys, ETag, timestamp and typed properties (string, long, int, double, bool, DateTimeOffset, Guid,
/// byte[]). Property values keep their CLR type so the wire format can carry the matching Edm type.
/// </summary>
public sealed class TableEntity
{
    /// <summary>Creates an entity with the given keys.</summary>
    public TableEntity(string partitionKey, string rowKey)
    {
        PartitionKey = partitionKey ?? throw new ArgumentNullException(nameof(partitionKey));
        RowKey = rowKey ?? throw new ArgumentNullException(nameof(rowKey));
    }

    /// <summary>Partition key.</summary>
    public string PartitionKey { get; }

    /// <summary>Row key.</summary>
    public string RowKey { get; }

    /// <summary>ETag as read or last written; the concurrency token for If-Match.</summary>
    public ETag ETag { get; set; }

    /// <summary>Server timestamp as read.</summary>
    public DateTimeOffset? Timestamp { get; set; }

    /// <summary>Properties other than the keys and timestamp.</summary>
    public Dictionary<string, object?> Properties { get; } = new(StringComparer.Ordinal);

    /// <summary>Gets or sets one property.</summary>
    public object? this[string name]
    {
        get => Properties.GetValueOrDefault(name);
        set => Properties[name] = value;
    }

    /// <summary>A string property, or null.</summary>
    public string? GetString(string name) => this[name] as string;

    /// <summary>A 64-bit integer property (32-bit values widen), or null.</summary>
    public long? GetInt64(string name) => this[name] switch
    {
        long l => l,
        int i => i,
        string s when long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var p) => p,
        _ => null,
    };

    /// <summary>A 32-bit integer property, or null.</summary>
    public int? GetInt32(string name) => this[name] switch
    {
        int i => i,
        long l and >= int.MinValue and <= int.MaxValue => (int)l,
        _ => null,
    };

    /// <summary>A boolean property, or null.</summary>
    public bool? GetBoolean(string name) => this[name] as bool?;

    /// <summary>A date-time property, or null.</summary>
    public DateTimeOffset? GetDateTimeOffset(string name) => this[name] switch
    {
        DateTimeOffset d => d,
        DateTime d => new DateTimeOffset(DateTime.SpecifyKind(d, DateTimeKind.Utc)),
        _ => null,
    };

    /// <summary>A string property that must exist (a missing one means the row was written by a bug).</summary>
    public string Require(string name) =>
        GetString(name) ?? throw new InvalidDataException($"Row {PartitionKey}/{RowKey} lacks '{name}'.");
}
