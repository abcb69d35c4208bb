using Azure.Data.Tables;
using System.Text.Json;
using Loyalty.Domain.Members;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Http;
using Loyalty.Functions.Sales;
using Loyalty.Storage.Ledger;
using Loyalty.Storage.Members;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Webhooks;

/// <summary>
/// Applies order events exactly once, whichever way they arrive: a paid order accrues like a sale, a refund reverses
/// it, a cancellation refunds what was paid (and does nothing if it never was). Idempotency is by (source, store,
/// event id), through the same member transactions as the till's. An event that needs one not yet seen (a refund
/// before its order) waits: it is re-enqueued with a delay and the current delivery acknowledged. An event that can
/// never apply (unknown member, invalid content) is parked with its reason in the OrderEvents table, never lost.
/// Only transient failures throw, so the trigger retries them and finally poisons.
/// </summary>
internal sealed class OrderEventProcessor(
    SaleService sales,
    RefundService refunds,
    MemberStore members,
    TableStore store,
    TimeProvider time,
    IOptions<LoyaltyOptions> options,
    ILogger<OrderEventProcessor> logger)
{
    public const int MaxWaits = 10;

    public async Task ProcessAsync(OrderEventMessage message, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(message);
        var e = message.Event;
        var idempotency = new IdempotencyContext($"{message.Source}:{message.StoreId}", e.EventId!, message.BodyHash);
        var saleId = $"{message.Source}-{message.StoreId}-{e.OrderId}";
        switch (e.Type)
        {
            case "order.paid":
                var memberId = await ResolveAsync(e.Member, ct);
                if (memberId is null)
                {
                    await RecordAsync(message, "parked", "member_unknown", ct);
                    return;
                }

                var request = new SaleRequest(saleId, message.StoreId, memberId, null, e.Lines, e.PayWithStoredValue, e.PointsToRedeem);
                var (error, outcome) = await sales.RecordAsync(request, idempotency, ct, message.Source == "shop" ? Reports.SaleChannels.Online : Reports.SaleChannels.Store);
                await FinishAsync(message, error?.Code, outcome, ct);
                return;
            case "order.refunded":
            case "order.cancelled":
                var sale = await refunds.FindAsync(saleId, ct);
                if (sale is null)
                {
                    if (e.Type == "order.cancelled")
                    {
                        await RecordAsync(message, "ignored", "never_paid", ct);
                    }
                    else if (message.Waits < MaxWaits)
                    {
                        await WaitAsync(message, ct);
                    }
                    else
                    {
                        await RecordAsync(message, "parked", "order_unknown", ct);
                    }

                    return;
                }

                if (e.Type == "order.cancelled" && sale.Value.Record.Refundable == 0)
                {
                    await RecordAsync(message, "ignored", "already_refunded", ct);
                    return;
                }

                var refund = e.Type == "order.cancelled"
                    ? new RefundRequest("cancel", null, null, null)
                    : new RefundRequest(e.RefundId ?? e.EventId, e.RefundLines, e.Amount, null);
                await FinishAsync(message, null, await refunds.RefundAsync(sale.Value.MemberId, saleId, refund, message.StoreId, idempotency, ct), ct);
                return;
            default:
                await RecordAsync(message, "parked", "event_type_unknown", ct);
                return;
        }
    }

    /// <summary>Puts a waiting event back on the queue with a delay.</summary>
    public async Task WaitAsync(OrderEventMessage message, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(message);
        var next = message with { Waits = message.Waits + 1 };
        await store.Queue(store.Names.OrderEventsQueue).SendMessageAsync(
            JsonSerializer.Serialize(next, JsonDefaults.Options), TimeSpan.FromSeconds(options.Value.OrderEventRetrySeconds), cancellationToken: ct);
        await RecordAsync(message, "waiting", "order_not_yet_paid", ct);
    }

    private async Task FinishAsync(OrderEventMessage message, string? refusedBeforeWrite, MemberOutcome? outcome, CancellationToken ct)
    {
        switch (outcome)
        {
            case Completed:
                await RecordAsync(message, "processed", null, ct);
                break;
            case Refused { Error.Code: "idempotency_in_flight" or "contention" } busy:
                // The same event is being applied by another delivery right now: retry this one later.
                throw new InvalidOperationException($"Event {message.Event.EventId} is busy ({busy.Error.Code}).");
            case Refused refused:
                await RecordAsync(message, "parked", refused.Error.Code, ct);
                break;
            default:
                await RecordAsync(message, "parked", refusedBeforeWrite ?? "refused", ct);
                break;
        }
    }

    private async Task<string?> ResolveAsync(OrderEventMember? member, CancellationToken ct)
    {
        if (member?.MemberId is { } id)
        {
            return MemberId.IsWellFormed(id) && await members.ExistsAsync(id, ct) ? id : null;
        }

        if (member?.Phone is { } phone && PhoneNumber.Parse(phone) is { IsSuccess: true } parsed)
        {
            return await members.FindByIndexAsync(MemberStore.PhoneIndexKey(Hashing.KeyedHex(options.Value.PhoneHashKey, parsed.Value.Value)), ct);
        }

        if (member?.CardNumber is { } card && CardNumber.Parse(card) is { IsSuccess: true } parsedCard)
        {
            return await members.FindByIndexAsync(MemberStore.CardIndexKey(parsedCard.Value.Value), ct);
        }

        return null;
    }

    private async Task RecordAsync(OrderEventMessage message, string status, string? reason, CancellationToken ct)
    {
        if (status == "parked")
        {
            logger.LogWarning("Order event {EventId} of {Source} {StoreId} parked: {Reason}", message.Event.EventId, message.Source, message.StoreId, reason);
        }

        await store.OrderEvents.UpsertEntityAsync(
            new TableEntity($"{message.Source}-{message.StoreId}", message.Event.EventId!)
            {
                ["Status"] = status,
                ["Reason"] = reason,
                ["Type"] = message.Event.Type,
                ["OrderId"] = message.Event.OrderId,
                ["Message"] = JsonSerializer.Serialize(message, JsonDefaults.Options),
                ["At"] = time.GetUtcNow(),
            },
            TableUpdateMode.Replace,
            ct);
    }
}
