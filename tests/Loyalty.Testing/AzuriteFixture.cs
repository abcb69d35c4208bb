using Azure.Storage.Queues;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Loyalty.Storage.Azure;

namespace Loyalty.Testing;

/// <summary>
/// The one fixture through which every Azurite-backed test reaches storage: a shared Azurite process and clients for
/// it. Use as <c>IClassFixture&lt;AzuriteFixture&gt;</c>.
/// </summary>
public sealed class AzuriteFixture
{
    /// <summary>Starts (or reuses) the shared server.</summary>
    public AzuriteFixture()
    {
        Server = AzuriteServer.Instance;
        (Tables, Queues) = StorageClients.FromConnectionString(Server.ConnectionString);
    }

    /// <summary>The server.</summary>
    public AzuriteServer Server { get; }

    /// <summary>Table clients on the server.</summary>
    public TableServiceClient Tables { get; }

    /// <summary>Queue clients on the server.</summary>
    public QueueServiceClient Queues { get; }

    /// <summary>
    /// A table client on the server whose pipeline runs <paramref name="policy"/> on every request: per call (ahead of
    /// the SDK's retries, so a fault reaches the caller), or with <paramref name="position"/> per retry (so the SDK's own
    /// retry policy sees it and sends the request again).
    /// </summary>
    public TableClient TableWith(string name, HttpPipelinePolicy policy, HttpPipelinePosition position = HttpPipelinePosition.PerCall)
    {
        var options = StorageClients.TableOptions();
        options.AddPolicy(policy, position);
        return new TableClient(Server.ConnectionString, name, options);
    }

    /// <summary>A new, empty, uniquely named table.</summary>
    public async Task<TableClient> NewTableAsync(string prefix = "t")
    {
        var table = Tables.GetTableClient(AzuriteServer.UniqueName(prefix));
        await table.CreateIfNotExistsAsync();
        return table;
    }

    /// <summary>A new, empty, uniquely named queue.</summary>
    public async Task<QueueClient> NewQueueAsync(string prefix = "q")
    {
        var queue = Queues.GetQueueClient(AzuriteServer.UniqueName(prefix));
        await queue.CreateIfNotExistsAsync();
        return queue;
    }
}
