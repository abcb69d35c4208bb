using Azure.Core.Pipeline;
using Loyalty.Storage.Azure;

namespace Loyalty.Storage.Queues;

/// <summary>Hands out <see cref="QueueClient"/>s that share one pipeline.</summary>
public sealed class QueueServiceClient
{
    private readonly HttpPipeline _pipeline;
    private readonly Uri _endpoint;

    /// <summary>Creates the service client for an account.</summary>
    public QueueServiceClient(StorageAccount account, StorageClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(account);
        _endpoint = account.QueueEndpoint;
        _pipeline = StoragePipeline.Build(account, SharedKeyPolicy.Service.Queue, options ?? new StorageClientOptions());
    }

    /// <summary>A client for one queue.</summary>
    public QueueClient GetQueueClient(string name) => new(_pipeline, _endpoint, name);
}
