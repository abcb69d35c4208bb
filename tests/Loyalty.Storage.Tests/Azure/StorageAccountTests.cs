using Loyalty.Storage.Azure;
using Loyalty.Storage.Queues;
using Loyalty.Storage.Tables;
using Loyalty.Testing;
using Xunit;

namespace Loyalty.Storage.Tests.Azure;

public sealed class StorageAccountTests
{
    [Fact]
    public void FromConnectionString_DevelopmentStorage_PointsAtAzurite()
    {
        var account = StorageAccount.FromConnectionString("UseDevelopmentStorage=true");

        Assert.Equal(new Uri("http://127.0.0.1:10002/devstoreaccount1"), account.TableEndpoint);
        Assert.Equal(new Uri("http://127.0.0.1:10001/devstoreaccount1"), account.QueueEndpoint);
        Assert.True(account.UsesSharedKey);
    }

    [Fact]
    public void FromConnectionString_AccountAndSuffix_BuildsServiceEndpoints()
    {
        var account = StorageAccount.FromConnectionString("DefaultEndpointsProtocol=https;AccountName=chainloyalty;AccountKey=" +
            Convert.ToBase64String(new byte[32]) + ";EndpointSuffix=core.chinacloudapi.cn");

        Assert.Equal(new Uri("https://chainloyalty.table.core.chinacloudapi.cn"), account.TableEndpoint);
        Assert.Equal(new Uri("https://chainloyalty.queue.core.chinacloudapi.cn"), account.QueueEndpoint);
        Assert.Equal("chainloyalty", account.AccountName);
    }

    [Fact]
    public void FromConnectionString_MissingKey_Throws() =>
        Assert.Throws<FormatException>(() => StorageAccount.FromConnectionString("AccountName=x"));

    [Fact]
    public void FromSettings_IdentityBased_UsesTokenCredential()
    {
        var settings = new Dictionary<string, string?>
        {
            ["LoyaltyStorage__tableServiceUri"] = "https://acct.table.core.windows.net",
            ["LoyaltyStorage__queueServiceUri"] = "https://acct.queue.core.windows.net",
            ["LoyaltyStorage__clientId"] = "00000000-0000-0000-0000-000000000001",
        };

        var account = StorageAccount.FromSettings(k => settings.GetValueOrDefault(k), "LoyaltyStorage");

        Assert.False(account.UsesSharedKey);
        Assert.NotNull(account.Credential);
        Assert.Equal(new Uri("https://acct.table.core.windows.net"), account.TableEndpoint);
    }

    [Fact]
    public void FromSettings_Nothing_ThrowsNamingTheSettings()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => StorageAccount.FromSettings(_ => null, "LoyaltyStorage"));
        Assert.Contains("LoyaltyStorage__tableServiceUri", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TokenCredential_SendsBearerTokenForTheStorageScope_ToTablesAndQueues()
    {
        var credential = new FakeCredential();
        var transport = new CapturingTransport();
        var options = new StorageClientOptions { Transport = transport };
        var account = StorageAccount.WithCredential(new Uri("https://acct.table.core.windows.net"), new Uri("https://acct.queue.core.windows.net"), credential);

        await new TableServiceClient(account, options).GetTableClient("Members").GetEntityAsync("p", "r");
        await new QueueServiceClient(account, options).GetQueueClient("work").DeleteMessageAsync("id", "receipt");

        Assert.Equal(2, transport.Requests.Count);
        Assert.All(transport.Requests, r => Assert.Equal("Bearer token-for-https://storage.azure.com/.default", r.Authorization));
        Assert.All(credential.Scopes, s => Assert.Equal(["https://storage.azure.com/.default"], s));
        Assert.Equal("https://acct.table.core.windows.net/Members(PartitionKey='p',RowKey='r')", transport.Requests[0].Uri);
        Assert.Equal("https://acct.queue.core.windows.net/work/messages/id?popreceipt=receipt", transport.Requests[1].Uri);
    }
}
