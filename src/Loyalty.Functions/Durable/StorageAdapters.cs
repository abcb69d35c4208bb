using Azure.Storage.Queues;
using Azure.Data.Tables;
using Azure;
using Loyalty.Durable.Storage;
using Loyalty.Storage.Queues;
using Loyalty.Storage.Tables;

namespace Loyalty.Functions.Durable;

/// <summary>The durable runtime's instance table, on the app's Table client.</summary>
public sealed class TableInstanceTable(TableClient table) : IInstanceTable
{
    /// <inheritdoc />
    public async Task<DurableRow?> GetAsync(string instanceId, string rowKey, CancellationToken cancellationToken)
    {
        var row = await table.FindEntityAsync(instanceId, rowKey, cancellationToken);
        return row is null ? null : ToRow(row);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<DurableRow>> QueryAsync(string instanceId, string rowKeyPrefix, CancellationToken cancellationToken)
    {
        var rows = new List<DurableRow>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableFilter.PartitionRowPrefix(instanceId, rowKeyPrefix), cancellationToken: cancellationToken))
        {
            rows.Add(ToRow(row));
        }

        return rows;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<(string InstanceId, DurableRow Row)>> QueryAllAsync(string rowKey, CancellationToken cancellationToken)
    {
        var rows = new List<(string, DurableRow)>();
        await foreach (var row in table.QueryAsync<TableEntity>($"RowKey eq {TableFilter.Quote(rowKey)}", cancellationToken: cancellationToken))
        {
            rows.Add((row.PartitionKey, ToRow(row)));
        }

        return rows;
    }

    /// <inheritdoc />
    public async Task<bool> TransactAsync(string instanceId, IReadOnlyList<DurableRow> upserts, IReadOnlyList<string> deletes, DurableRow? header, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upserts);
        ArgumentNullException.ThrowIfNull(deletes);
        var actions = new List<TableTransactionAction>();
        if (header is not null)
        {
            actions.Add(header.ETag is null
                ? new(TableTransactionActionType.Add, ToEntity(instanceId, header))
                : new(TableTransactionActionType.UpdateReplace, ToEntity(instanceId, header), new ETag(header.ETag)));
        }

        actions.AddRange(upserts.Select(r => new TableTransactionAction(TableTransactionActionType.UpsertReplace, ToEntity(instanceId, r))));
        actions.AddRange(deletes.Select(k => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(instanceId, k), ETag.All)));
        if (actions.Count == 0)
        {
            return true;
        }

        try
        {
            await table.SubmitTransactionAsync(actions, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (header is not null && ex.Status is 409 or 412)
        {
            return false;
        }
        catch (RequestFailedException ex) when (header is null && ex.Status == 404 && upserts.Count == 0)
        {
            // Deleting outbox rows that a concurrent dispatcher already removed.
            return true;
        }
    }

    /// <inheritdoc />
    public async Task DeletePartitionAsync(string instanceId, CancellationToken cancellationToken)
    {
        var keys = new List<string>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableFilter.Partition(instanceId), cancellationToken: cancellationToken))
        {
            keys.Add(row.RowKey);
        }

        await table.DeleteRowsAsync(instanceId, keys, cancellationToken);
    }

    private static DurableRow ToRow(TableEntity row) =>
        new(row.RowKey, row.Values().Where(p => p.Value is string).ToDictionary(p => p.Key, p => (string)p.Value!), row.ETag.ToString());

    private static TableEntity ToEntity(string instanceId, DurableRow row)
    {
        var entity = new TableEntity(instanceId, row.RowKey);
        foreach (var (key, value) in row.Values)
        {
            entity[key] = value;
        }

        return entity;
    }
}

/// <summary>A durable runtime channel on a Storage queue.</summary>
public sealed class QueueChannel(QueueClient queue) : IMessageChannel
{
    /// <inheritdoc />
    public Task SendAsync(string body, TimeSpan delay, CancellationToken cancellationToken) =>
        queue.SendMessageAsync(body, delay < TimeSpan.Zero ? TimeSpan.Zero : delay, cancellationToken: cancellationToken);

    /// <inheritdoc />
    public async Task<IReadOnlyList<ReceivedMessage>> ReceiveAsync(int max, TimeSpan visibility, CancellationToken cancellationToken) =>
        [.. (await queue.ReceiveMessagesAsync(max, visibility, cancellationToken)).Value.Select(m => new ReceivedMessage(m.MessageId, m.PopReceipt, m.Body.ToString()))];

    /// <inheritdoc />
    public Task DeleteAsync(ReceivedMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        return queue.DeleteMessageIfExistsAsync(message.Id, message.Receipt, cancellationToken);
    }
}
