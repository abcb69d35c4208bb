using Azure.Data.Tables;
using Azure.Storage.Queues;
using Loyalty.Storage.Azure;
using Loyalty.Storage.Queues;
using Loyalty.Storage.Tables;
using Loyalty.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Loyalty.Storage.Tests.Azure;

public sealed class StorageSettingsTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public void FromSettings_ConnectionString_IsUsedAsItIs()
    {
        var settings = StorageSettings.FromSettings(n => n == "LoyaltyStorage" ? "UseDevelopmentStorage=true" : null, "LoyaltyStorage");

        Assert.Equal("UseDevelopmentStorage=true", settings.ConnectionString);
        Assert.Null(settings.Credential);
    }

    [Fact]
    public void FromSettings_IdentityBased_UsesTheUserAssignedClientId()
    {
        var values = new Dictionary<string, string?>
        {
            ["LoyaltyStorage__tableServiceUri"] = "https://acct.table.core.windows.net",
            ["LoyaltyStorage__queueServiceUri"] = "https://acct.queue.core.windows.net",
            ["LoyaltyStorage__clientId"] = "00000000-0000-0000-0000-000000000001",
        };
        string? clientId = null;

        var settings = StorageSettings.FromSettings(k => values.GetValueOrDefault(k), "LoyaltyStorage", id => { clientId = id; return new FakeCredential(); });

        Assert.Null(settings.ConnectionString);
        Assert.IsType<FakeCredential>(settings.Credential);
        Assert.Equal("00000000-0000-0000-0000-000000000001", clientId);
        Assert.Equal(new Uri("https://acct.table.core.windows.net"), settings.TableServiceUri);
        Assert.Equal(new Uri("https://acct.queue.core.windows.net"), settings.QueueServiceUri);
    }

    [Theory]
    [InlineData("DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=not*base64!;EndpointSuffix=core.windows.net", "AccountKey is not base64")]
    [InlineData("DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=;EndpointSuffix=core.windows.net", "AccountKey is not base64")]
    [InlineData("DefaultEndpointsProtocol=https;AccountKey=AAAA;EndpointSuffix=core.windows.net", "no AccountName")]
    public void FromSettings_UnusableConnectionString_ThrowsNamingTheSettingAndTheMistake(string connectionString, string mistake)
    {
        var ex = Assert.Throws<StorageSettingsException>(() => StorageSettings.FromSettings(n => n == "LoyaltyStorage" ? connectionString : null, "LoyaltyStorage"));

        Assert.Contains("'LoyaltyStorage'", ex.Message, StringComparison.Ordinal);
        Assert.Contains(mistake, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromSettings_Nothing_ThrowsNamingTheSettings()
    {
        var ex = Assert.Throws<StorageSettingsException>(() => StorageSettings.FromSettings(_ => null, "LoyaltyStorage"));
        Assert.Contains("LoyaltyStorage__tableServiceUri", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddStorageClients_ConnectionString_RegistersOneClientOfEachKind_WithBase64Queues()
    {
        using var provider = new ServiceCollection()
            .AddStorageClients(StorageSettings.FromConnectionString(azurite.Server.ConnectionString))
            .BuildServiceProvider();
        var tables = provider.GetRequiredService<TableServiceClient>();
        var queues = provider.GetRequiredService<QueueServiceClient>();
        var queue = await azurite.NewQueueAsync();
        var raw = new QueueClient(azurite.Server.ConnectionString, queue.Name, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None });

        await queues.GetQueueClient(queue.Name).SendMessageAsync("会员");
        var onTheWire = Assert.Single((await raw.PeekMessagesAsync(1)).Value);

        Assert.Same(tables, provider.GetRequiredService<TableServiceClient>());
        Assert.Same(queues, provider.GetRequiredService<QueueServiceClient>());
        Assert.Equal("devstoreaccount1", tables.AccountName);
        Assert.Equal(Convert.ToBase64String("会员"u8.ToArray()), onTheWire.Body.ToString());
    }

    [Fact]
    public async Task TokenCredential_SendsABearerTokenForTheStorageScope_ToTablesAndQueues()
    {
        var credential = new FakeCredential();
        var transport = new CapturingTransport();
        var tableOptions = StorageClients.TableOptions();
        var queueOptions = StorageClients.QueueOptions();
        (tableOptions.Transport, queueOptions.Transport) = (transport, transport);
        (tableOptions.Retry.MaxRetries, queueOptions.Retry.MaxRetries) = (0, 0);

        await new TableServiceClient(new Uri("https://acct.table.core.windows.net"), credential, tableOptions).GetTableClient("Members").FindEntityAsync("p", "r");
        await new QueueServiceClient(new Uri("https://acct.queue.core.windows.net"), credential, queueOptions).GetQueueClient("work").DeleteMessageIfExistsAsync("id", "receipt");

        Assert.Equal(2, transport.Requests.Count);
        Assert.All(transport.Requests, r => Assert.Equal("Bearer token-for-https://storage.azure.com/.default", r.Authorization));
        Assert.StartsWith("https://acct.table.core.windows.net/Members(PartitionKey='p',RowKey='r')", transport.Requests[0].Uri, StringComparison.Ordinal);
        Assert.StartsWith("https://acct.queue.core.windows.net/work/messages/id?popreceipt=receipt", transport.Requests[1].Uri, StringComparison.Ordinal);
    }
}
