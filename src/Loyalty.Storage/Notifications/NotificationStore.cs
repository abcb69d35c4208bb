using Azure.Data.Tables;
using Azure;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;

namespace Loyalty.Storage.Notifications;

/// <summary>Notifications per member (PartitionKey = member id, RowKey = notification id).</summary>
public sealed class NotificationStore(TableStore store)
{
    /// <summary>Adds a notification; returns false when one with the same id already exists.</summary>
    public async Task<bool> AddAsync(NotificationRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        try
        {
            await store.Notifications.AddEntityAsync(ToRow(record), cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return false;
        }
    }

    /// <summary>Reads one notification.</summary>
    public async Task<NotificationRecord?> GetAsync(string memberId, string notificationId, CancellationToken cancellationToken = default)
    {
        var row = await store.Notifications.FindEntityAsync(memberId, notificationId, cancellationToken);
        return row is null ? null : FromRow(row);
    }

    /// <summary>Marks a notification as sent.</summary>
    public async Task MarkSentAsync(string memberId, string notificationId, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        var row = new TableEntity(memberId, notificationId) { ["Status"] = "sent", ["SentAt"] = at };
        await store.Notifications.UpdateEntityAsync(row, ETag.All, TableUpdateMode.Merge, cancellationToken);
    }

    /// <summary>A member's notifications.</summary>
    public async Task<IReadOnlyList<NotificationRecord>> ListAsync(string memberId, CancellationToken cancellationToken = default)
    {
        var list = new List<NotificationRecord>();
        await foreach (var row in store.Notifications.QueryAsync<TableEntity>(TableFilter.Partition(memberId), cancellationToken: cancellationToken))
        {
            list.Add(FromRow(row));
        }

        return list;
    }

    private static TableEntity ToRow(NotificationRecord r) => new(r.MemberId, r.NotificationId)
    {
        ["Channel"] = r.Channel,
        ["Template"] = r.Template,
        ["Text"] = r.Text,
        ["Status"] = r.Status,
        ["CreatedAt"] = r.CreatedAt,
    };

    private static NotificationRecord FromRow(TableEntity row) => new(
        row.PartitionKey,
        row.RowKey,
        row.Require("Channel"),
        row.Require("Template"),
        row.Require("Text"),
        row.Require("Status"),
        row.GetDateTimeOffset("CreatedAt") ?? default,
        row.GetDateTimeOffset("SentAt"));
}
