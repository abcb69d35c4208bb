using Azure.Data.Tables;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;
using Loyalty.Testing;
using Xunit;

namespace Loyalty.Storage.Tests.Schema;

/// <summary>The start-up check of the stored data's row layout, on Azurite.</summary>
public sealed class StorageLayoutTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task EmptyStorage_IsMarkedWithTheCurrentLayout_AndPassesAgain()
    {
        var store = await StoreAsync();

        await new StorageLayout(store).EnsureAsync();
        await new StorageLayout(store).EnsureAsync();

        Assert.Equal(StorageLayout.Current, (await store.Config.FindEntityAsync("storage-layout", "current"))?.GetInt32("Version"));
    }

    [Fact]
    public async Task MembersWithoutAMarker_AreLayout1_AndStopTheStart_WithoutWritingAMarker()
    {
        var store = await StoreAsync();
        await store.Members.AddEntityAsync(new TableEntity("M1", "account") { ["Points"] = 0L });

        var ex = await Assert.ThrowsAsync<StorageLayoutException>(() => new StorageLayout(store).EnsureAsync());

        Assert.Contains("delete .azurite/", ex.Message, StringComparison.Ordinal);
        Assert.Null(await store.Config.FindEntityAsync("storage-layout", "current"));
    }

    [Fact]
    public async Task AMarkerOfAnotherLayout_StopsTheStart()
    {
        var store = await StoreAsync();
        await store.Config.AddEntityAsync(new TableEntity("storage-layout", "current") { ["Version"] = 3 });

        var ex = await Assert.ThrowsAsync<StorageLayoutException>(() => new StorageLayout(store).EnsureAsync());

        Assert.Contains("row layout 3", ex.Message, StringComparison.Ordinal);
    }

    private async Task<TableStore> StoreAsync()
    {
        var store = new TableStore(new StorageNames(AzuriteServer.UniqueName("l")[..12]), azurite.Tables, azurite.Queues);
        await store.EnsureCreatedAsync([]);
        return store;
    }
}
