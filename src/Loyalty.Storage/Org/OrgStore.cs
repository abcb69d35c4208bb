using Azure.Data.Tables;
using System.Globalization;
using Azure;
using Loyalty.Domain.Org;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;

namespace Loyalty.Storage.Org;

/// <summary>
/// The org tree, stored as immutable versions: version N's nodes are rows of partition <c>v{N}</c>, written first,
/// then a pointer row switches to N with If-Match. A reader never sees a half-written tree, two concurrent writers
/// cannot both win, and old versions stay for the audit trail. Reads are cached briefly.
/// </summary>
public sealed class OrgStore(TableStore store, TimeProvider time)
{
    private const string PointerPartition = "current";
    private const string PointerRow = "pointer";
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(10);

    private readonly Lock _gate = new();
    private (OrgTree Tree, long Version, DateTimeOffset Until)? _cache;

    /// <summary>The current tree with its version; null before the first one is written.</summary>
    public async Task<(OrgTree Tree, long Version)?> GetAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (_cache is { } c && c.Until > time.GetUtcNow())
            {
                return (c.Tree, c.Version);
            }
        }

        var pointer = await store.Org.FindEntityAsync(PointerPartition, PointerRow, cancellationToken);
        if (pointer is null)
        {
            return null;
        }

        var version = pointer.GetInt64("Version") ?? throw new InvalidDataException("Org pointer lacks a version.");
        var nodes = new List<OrgNode>();
        await foreach (var row in store.Org.QueryAsync<TableEntity>(TableFilter.Partition(Partition(version)), cancellationToken: cancellationToken))
        {
            nodes.Add(new OrgNode(
                row.RowKey,
                Enum.Parse<OrgNodeKind>(row.Require("Kind")),
                row.Require("Name"),
                row.GetString("ParentId")));
        }

        var tree = OrgTree.Create(nodes);
        if (!tree.IsSuccess)
        {
            throw new InvalidDataException($"Stored org version {version} is invalid: {tree.Error.Message}");
        }

        lock (_gate)
        {
            _cache = (tree.Value, version, time.GetUtcNow() + CacheFor);
        }

        return (tree.Value, version);
    }

    /// <summary>The current tree; throws when none has been written (start-up writes one).</summary>
    public async Task<OrgTree> GetRequiredAsync(CancellationToken cancellationToken = default) =>
        (await GetAsync(cancellationToken))?.Tree ?? throw new InvalidOperationException("No org tree has been configured.");

    /// <summary>
    /// Writes <paramref name="tree"/> as the version after <paramref name="expectedVersion"/> (0 when there is none
    /// yet). Returns false when another writer moved the pointer first.
    /// </summary>
    public async Task<bool> ReplaceAsync(OrgTree tree, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var pointer = await store.Org.FindEntityAsync(PointerPartition, PointerRow, cancellationToken);
        var current = pointer?.GetInt64("Version") ?? 0;
        if (current != expectedVersion)
        {
            return false;
        }

        // A unique version partition per attempt: a losing or crashed writer leaves only unreferenced rows.
        var next = Math.Max(current + 1, time.GetUtcNow().ToUnixTimeMilliseconds());
        foreach (var chunk in tree.Nodes.Chunk(100))
        {
            await store.Org.SubmitTransactionAsync(
                [.. chunk.Select(n => new TableTransactionAction(TableTransactionActionType.UpsertReplace, ToRow(next, n)))],
                cancellationToken);
        }

        var newPointer = new TableEntity(PointerPartition, PointerRow) { ["Version"] = next };
        try
        {
            if (pointer is null)
            {
                await store.Org.AddEntityAsync(newPointer, cancellationToken);
            }
            else
            {
                await store.Org.UpdateEntityAsync(newPointer, pointer.ETag, TableUpdateMode.Replace, cancellationToken);
            }
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            return false;
        }

        lock (_gate)
        {
            _cache = (tree, next, time.GetUtcNow() + CacheFor);
        }

        return true;
    }

    private static string Partition(long version) => "v" + version.ToString("D19", CultureInfo.InvariantCulture);

    private static TableEntity ToRow(long version, OrgNode node)
    {
        var row = new TableEntity(Partition(version), node.Id)
        {
            ["Kind"] = node.Kind.ToString(),
            ["Name"] = node.Name,
        };
        if (node.ParentId is not null)
        {
            row["ParentId"] = node.ParentId;
        }

        return row;
    }
}
