namespace Loyalty.Storage.Queues;

/// <summary>A received message: its text and what is needed to delete it or change its visibility.</summary>
/// <param name="MessageId">Service-assigned id.</param>
/// <param name="PopReceipt">Receipt of this dequeue; required to delete or update.</param>
/// <param name="Body">Decoded message text.</param>
/// <param name="DequeueCount">How many times it has been received, this time included.</param>
/// <param name="InsertionTime">When it was first enqueued.</param>
/// <param name="ExpirationTime">When it expires.</param>
/// <param name="NextVisibleOn">When it becomes visible again unless deleted.</param>
public sealed record QueueMessage(
    string MessageId,
    string PopReceipt,
    string Body,
    long DequeueCount,
    DateTimeOffset InsertionTime,
    DateTimeOffset ExpirationTime,
    DateTimeOffset NextVisibleOn);

/// <summary>What the service returned for a sent message.</summary>
/// <param name="MessageId">Service-assigned id.</param>
/// <param name="PopReceipt">Receipt usable to delete or update it before it is received.</param>
/// <param name="NextVisibleOn">When it becomes visible.</param>
public sealed record SendReceipt(string MessageId, string PopReceipt, DateTimeOffset NextVisibleOn);
