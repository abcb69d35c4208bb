using Azure.Data.Tables;
using Loyalty.Storage.Tables;

namespace Loyalty.Storage.Schema;

/// <summary>
/// The version of the row layout the stored data was written in, kept as one row of the Config table. Layout 2
/// (2026-12) gave the rows every member has (profile, account, ledger, outbox) and the index rows row keys of their
/// own (docs/decisions/0010-member-unique-row-keys.md). The app reads no other layout: it refuses to start on members
/// written in layout 1 rather than failing to find them one request at a time.
/// </summary>
public sealed class StorageLayout(TableStore store)
{
    /// <summary>The layout this build writes and reads.</summary>
    public const int Current = 2;

    private const string Partition = "storage-layout";
    private const string Row = "current";

    /// <summary>Records the current layout on an empty store; throws <see cref="StorageLayoutException"/> on data in another.</summary>
    public async Task EnsureAsync(CancellationToken cancellationToken = default)
    {
        var marker = await store.Config.FindEntityAsync(Partition, Row, cancellationToken);
        if (marker?.GetInt32("Version") is { } version)
        {
            if (version != Current)
            {
                throw new StorageLayoutException($"The storage holds data in row layout {version}; this build reads layout {Current} only.");
            }

            return;
        }

        var anyMember = false;
        await foreach (var row in store.Members.QueryAsync<TableEntity>((string?)null, 1, ["PartitionKey"], cancellationToken))
        {
            anyMember = row is not null;
            break;
        }

        if (anyMember)
        {
            throw new StorageLayoutException(
                $"The storage holds members written before row layout {Current} (2026-12) and no layout marker; this build cannot read them. " +
                "Locally, start from empty storage (delete .azurite/); a deployment with data to keep needs a copy into the new layout.");
        }

        await store.Config.UpsertEntityAsync(new TableEntity(Partition, Row) { ["Version"] = Current, ["At"] = DateTimeOffset.UtcNow }, TableUpdateMode.Replace, cancellationToken);
    }
}

/// <summary>The stored data is in a row layout this build does not read.</summary>
public sealed class StorageLayoutException(string message) : Exception(message);
