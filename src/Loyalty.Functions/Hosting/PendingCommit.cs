using System.Text.Json;
using Azure.Storage.Queues;
using Loyalty.Storage.Config;

namespace Loyalty.Functions.Hosting;

/// <summary>
/// A queue message sent just before the transaction it follows commits may arrive before the row it names. Its
/// handler looks again later, with a growing delay (2 s, 4 s, ... up to a minute), until <see cref="Grace"/> has passed
/// since the message was first sent: then the transaction never committed and the message is dropped.
/// </summary>
internal static class PendingCommit
{
    /// <summary>How long after its first sending a row may still appear.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromMinutes(5);

    /// <summary>Sends <paramref name="next"/> (the message with its tries counted) to look again; false once the grace has passed.</summary>
    public static async Task<bool> LookAgainLaterAsync<T>(QueueClient queue, T next, int tries, DateTimeOffset firstSent, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(time);
        if (time.GetUtcNow() - firstSent > Grace)
        {
            return false;
        }

        var delay = TimeSpan.FromSeconds(Math.Min(60, 1 << Math.Min(tries + 1, 6)));
        await queue.SendMessageAsync(JsonSerializer.Serialize(next, ConfigJson.Options), delay, cancellationToken: cancellationToken);
        return true;
    }
}
