using Azure;
using Azure.Storage.Queues;

namespace Loyalty.Storage.Queues;

/// <summary>The few conveniences the app adds to <see cref="QueueClient"/>.</summary>
public static class QueueClientExtensions
{
    /// <summary>Deletes a received message; one already gone (deleted by another receiver, or expired) is not an error.</summary>
    public static async Task DeleteMessageIfExistsAsync(this QueueClient queue, string messageId, string popReceipt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queue);
        try
        {
            await queue.DeleteMessageAsync(messageId, popReceipt, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // MessageNotFound: deleted by another receiver, or expired.
        }
    }

    /// <summary>Changes a received message's visibility, keeping its text; returns the new pop receipt.</summary>
    public static async Task<string> UpdateVisibilityAsync(this QueueClient queue, string messageId, string popReceipt, TimeSpan visibilityTimeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queue);
        var receipt = await queue.UpdateMessageAsync(messageId, popReceipt, (string?)null, visibilityTimeout, cancellationToken);
        return receipt.Value.PopReceipt;
    }
}
