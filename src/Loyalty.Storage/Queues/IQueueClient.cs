namespace Loyalty.Storage.Queues;

/// <summary>
/// The queue operations the app uses; small so Azure.Storage.Queues can replace the REST client later. Message text is
/// base64-encoded on the wire, the Functions host's default queue encoding, so the host can trigger on our messages.
/// </summary>
public interface IQueueClient
{
    /// <summary>Queue name.</summary>
    string Name { get; }

    /// <summary>Creates the queue unless it exists.</summary>
    Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default);

    /// <summary>Enqueues text, hidden for <paramref name="visibilityDelay"/> (at most 7 days).</summary>
    Task<SendReceipt> SendMessageAsync(string body, TimeSpan? visibilityDelay = null, TimeSpan? timeToLive = null, CancellationToken cancellationToken = default);

    /// <summary>Receives up to 32 messages, hiding them for <paramref name="visibilityTimeout"/>.</summary>
    Task<IReadOnlyList<QueueMessage>> ReceiveMessagesAsync(int maxMessages, TimeSpan visibilityTimeout, CancellationToken cancellationToken = default);

    /// <summary>Looks at up to 32 visible messages without receiving them (dequeue count and receipts unchanged).</summary>
    Task<IReadOnlyList<QueueMessage>> PeekMessagesAsync(int maxMessages, CancellationToken cancellationToken = default);

    /// <summary>Deletes a received message; a message already gone is not an error.</summary>
    Task DeleteMessageAsync(string messageId, string popReceipt, CancellationToken cancellationToken = default);

    /// <summary>Changes a received message's visibility; returns the new pop receipt.</summary>
    Task<string> UpdateVisibilityAsync(string messageId, string popReceipt, TimeSpan visibilityTimeout, CancellationToken cancellationToken = default);
}
