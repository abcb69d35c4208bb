using System.Collections.Concurrent;
using Azure.Storage.Queues;

namespace Loyalty.LocalHost;

/// <summary>
/// Queue clients by connection setting and queue name. A binding's <c>connection</c> names an app setting holding a
/// connection string (<c>AzureWebJobsStorage</c> when it names none); messages are base64, the host's encoding.
/// </summary>
public sealed class QueueClients(HostSettings settings)
{
    private readonly ConcurrentDictionary<(string, string), QueueClient> _clients = new();

    /// <summary>The client for <paramref name="queueName"/> on the connection <paramref name="connection"/>.</summary>
    public QueueClient Get(string? connection, string queueName)
    {
        var setting = string.IsNullOrEmpty(connection) ? "AzureWebJobsStorage" : connection;
        return _clients.GetOrAdd((setting, queueName), key =>
        {
            var connectionString = settings.Get(key.Item1)
                ?? throw new InvalidOperationException($"The setting '{key.Item1}' (a storage connection string for queue '{key.Item2}') is missing.");
            return new QueueClient(connectionString, key.Item2, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        });
    }
}
