using System.Text.Json;
using Loyalty.Functions.Hosting;
using Loyalty.Storage.Config;
using Loyalty.Storage.Events;
using Loyalty.Storage.Members;
using Loyalty.Storage.Schema;

namespace Loyalty.Functions.Events;

/// <summary>
/// Queue-triggered (member-events): dispatches the outbox of a member transaction that had no report facts to carry
/// the news. The message is sent before the commit, so the row may not be there yet: it is looked for again with a
/// growing delay, and given up after <see cref="PendingCommit.Grace"/> (the transaction never committed, so there is
/// nothing to publish). A row already dispatched is not missed: the account's event counter has passed it.
/// </summary>
internal sealed class DispatchMemberEvents(EventDispatcher dispatcher, MemberStore members, TableStore store, TimeProvider time, ILogger<DispatchMemberEvents> logger) : IQueueFunction
{
    public async Task RunAsync(QueueInvocation invocation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        var message = JsonSerializer.Deserialize<MemberEventsMessage>(invocation.Body, ConfigJson.Options);
        if (message is null || string.IsNullOrEmpty(message.MemberId) || message.RowKey?.StartsWith(OutboxRows.Prefix, StringComparison.Ordinal) != true)
        {
            throw new InvalidDataException("A member-events message names a member and an outbox row.");
        }

        if (await dispatcher.DispatchMemberAsync(message.MemberId, message.RowKey, cancellationToken) > 0)
        {
            return;
        }

        // Not there: dispatched already (the counter has passed it), not committed yet, or never committed.
        var account = await members.GetRowAsync(message.MemberId, MemberStore.AccountRow(message.MemberId), cancellationToken);
        if (account is not null && (account.GetInt64("NextEvent") ?? 1) > OutboxRows.SequenceOf(message.RowKey))
        {
            return;
        }

        if (!await PendingCommit.LookAgainLaterAsync(store.Queue(store.Names.MemberEventsQueue), message with { Tries = message.Tries + 1 }, message.Tries, message.FirstSent, time, cancellationToken))
        {
            logger.LogInformation("Outbox row {RowKey} of {MemberId} never committed; dropped", message.RowKey, message.MemberId);
        }
    }
}

/// <summary>Queue-triggered (webhook-retries): the next attempt of a failed webhook delivery.</summary>
internal sealed class RetryWebhookDelivery(WebhookDeliverer deliverer) : IQueueFunction
{
    public async Task RunAsync(QueueInvocation invocation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        var message = JsonSerializer.Deserialize<WebhookRetryMessage>(invocation.Body, ConfigJson.Options)
            ?? throw new InvalidDataException("Empty webhook-retries message.");
        await deliverer.RetryAsync(message, cancellationToken);
    }
}
