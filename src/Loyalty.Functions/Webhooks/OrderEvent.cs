using Loyalty.Functions.Sales;

namespace Loyalty.Functions.Webhooks;

/// <summary>Who the order is for: exactly one of member id, phone or card number.</summary>
internal sealed record OrderEventMember(string? MemberId, string? Phone, string? CardNumber);

/// <summary>
/// An order event from an online shop (webhook) or a POS system (Service Bus). <c>type</c> is <c>order.paid</c>,
/// <c>order.refunded</c> or <c>order.cancelled</c>. POS events name their <c>storeId</c>; a shop's store is the shop.
/// </summary>
internal sealed record OrderEvent(
    string? EventId,
    string? Type,
    string? OrderId,
    string? StoreId,
    OrderEventMember? Member,
    IReadOnlyList<SaleLineDto>? Lines,
    long? PayWithStoredValue,
    long? PointsToRedeem,
    string? RefundId,
    long? Amount,
    IReadOnlyList<RefundLineDto>? RefundLines,
    DateTimeOffset? OccurredAt);

/// <summary>An accepted event on its way to processing (order-events queue).</summary>
/// <param name="Source"><c>shop</c> or <c>pos</c>.</param>
/// <param name="StoreId">The store (or online shop) it belongs to.</param>
/// <param name="Event">The event.</param>
/// <param name="BodyHash">Hash of the event as received: the same event id with other content is refused.</param>
/// <param name="Waits">How many times it has already waited for an earlier event.</param>
internal sealed record OrderEventMessage(string Source, string StoreId, OrderEvent Event, string BodyHash, int Waits);
