using Azure;
using Loyalty.Storage.Tables;
using Loyalty.Testing;
using Xunit;

namespace Loyalty.Storage.Tests.Ledger;

/// <summary>The guard the app's tests run behind: it must really stop ledger rows from changing.</summary>
public sealed class LedgerGuardTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Guard_RefusesUpdatesAndDeletesOfLedgerRows_AllowsInserts()
    {
        var table = new FaultyTableClient(await azurite.NewTableAsync(), new FaultPlan());
        var row = new TableEntity("M1", "ledger-000000000001") { ["Points"] = 5L };
        await table.AddEntityAsync(row);

        await Assert.ThrowsAsync<InvalidOperationException>(() => table.UpdateEntityAsync(row, ETag.All));
        await Assert.ThrowsAsync<InvalidOperationException>(() => table.UpsertEntityAsync(row));
        await Assert.ThrowsAsync<InvalidOperationException>(() => table.DeleteEntityAsync("M1", row.RowKey, ETag.All));
        await Assert.ThrowsAsync<InvalidOperationException>(() => table.SubmitTransactionAsync([new(TableTransactionActionType.UpdateMerge, row, ETag.All)]));
        await table.SubmitTransactionAsync([new(TableTransactionActionType.Add, new TableEntity("M1", "ledger-000000000002"))]);

        Assert.Equal(5L, (await table.GetEntityAsync("M1", row.RowKey))!.GetInt64("Points"));
        Assert.NotNull(await table.GetEntityAsync("M1", "ledger-000000000002"));
    }
}
