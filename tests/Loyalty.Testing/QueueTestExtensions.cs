using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;

namespace Loyalty.Testing;

/// <summary>Shorthands for tests that look into queues.</summary>
public static class QueueTestExtensions
{
    /// <summary>Up to 32 visible messages, left where they are.</summary>
    public static async Task<IReadOnlyList<PeekedMessage>> PeekAsync(this QueueClient queue)
    {
        ArgumentNullException.ThrowIfNull(queue);
        return (await queue.PeekMessagesAsync(32)).Value;
    }

    /// <summary>Receives up to <paramref name="max"/> messages, hiding them for <paramref name="visibilityTimeout"/>.</summary>
    public static async Task<IReadOnlyList<QueueMessage>> ReceiveAsync(this QueueClient queue, int max, TimeSpan visibilityTimeout)
    {
        ArgumentNullException.ThrowIfNull(queue);
        return (await queue.ReceiveMessagesAsync(max, visibilityTimeout)).Value;
    }
}
