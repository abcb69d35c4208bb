using Azure.Core.Pipeline;
using Loyalty.Storage.Azure;

namespace Loyalty.Storage.Tables;

/// <summary>Hands out <see cref="TableClient"/>s that share one pipeline.</summary>
public sealed class TableServiceClient
{
    private readonly HttpPipeline _pipeline;
    private readonly Uri _endpoint;

    /// <summary>Creates the service client for an account.</summary>
    public TableServiceClient(StorageAccount account, StorageClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(account);
        _endpoint = account.TableEndpoint;
        _pipeline = StoragePipeline.Build(account, SharedKeyPolicy.Service.Table, options ?? new StorageClientOptions());
    }

    /// <summary>A client for one table (not created yet; see <see cref="TableClient.CreateIfNotExistsAsync"/>).</summary>
    public TableClient GetTableClient(string name) => new(_pipeline, _endpoint, name);
}
