using Loyalty.Storage.Azure;
using Loyalty.Storage.Queues;
using Loyalty.Storage.Tables;

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
        Tables = new TableServiceClient(Server.Account);
        Queues = new QueueServiceClient(Server.Account);
    }

    /// <summary>The server.</summary>
    public AzuriteServer Server { get; }

    /// <summary>Table clients on the server.</summary>
    public TableServiceClient Tables { get; }

    /// <summary>Queue clients on the server.</summary>
    public QueueServiceClient Queues { get; }

    /// <summary>The account, for components that build their own clients.</summary>
    public StorageAccount Account => Server.Account;

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
