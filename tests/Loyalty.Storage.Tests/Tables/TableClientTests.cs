using Azure;
using Loyalty.Storage.Tables;
using Loyalty.Testing;
using Xunit;

namespace Loyalty.Storage.Tests.Tables;

public sealed class TableClientTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task AddThenGet_RoundTripsEveryPropertyType()
    {
        var table = await azurite.NewTableAsync();
        var when = new DateTimeOffset(2026, 11, 22, 8, 30, 15, 123, TimeSpan.Zero);
        var id = Guid.NewGuid();
        var entity = new TableEntity("p'1 x", "r é 会")
        {
            ["Text"] = "会员 it's",
            ["Big"] = 9_007_199_254_740_993L,
            ["Small"] = 42,
            ["Ratio"] = 2.0,
            ["Flag"] = true,
            ["When"] = when,
            ["Id"] = id,
            ["Bytes"] = new byte[] { 1, 2, 3 },
        };

        var etag = await table.AddEntityAsync(entity);
        var read = await table.GetEntityAsync("p'1 x", "r é 会");

        Assert.NotNull(read);
        Assert.Equal(etag, read.ETag);
        Assert.Equal("会员 it's", read.GetString("Text"));
        Assert.Equal(9_007_199_254_740_993L, read["Big"]);
        Assert.Equal(42, read["Small"]);
        Assert.Equal(2.0, read["Ratio"]);
        Assert.Equal(true, read["Flag"]);
        Assert.Equal(when, read.GetDateTimeOffset("When"));
        Assert.Equal(id, read["Id"]);
        Assert.Equal(new byte[] { 1, 2, 3 }, read["Bytes"]);
    }

    [Fact]
    public async Task GetEntity_Missing_ReturnsNull()
    {
        var table = await azurite.NewTableAsync();
        Assert.Null(await table.GetEntityAsync("nope", "nope"));
    }

    [Fact]
    public async Task AddEntity_Existing_Throws409()
    {
        var table = await azurite.NewTableAsync();
        await table.AddEntityAsync(new TableEntity("p", "r"));

        var ex = await Assert.ThrowsAsync<RequestFailedException>(() => table.AddEntityAsync(new TableEntity("p", "r")));
        Assert.Equal(409, ex.Status);
    }

    [Fact]
    public async Task UpdateEntity_StaleETag_Throws412AndKeepsWinner()
    {
        var table = await azurite.NewTableAsync();
        var stale = await table.AddEntityAsync(new TableEntity("p", "r") { ["N"] = 1L });
        await table.UpdateEntityAsync(new TableEntity("p", "r") { ["N"] = 2L }, stale);

        var ex = await Assert.ThrowsAsync<RequestFailedException>(
            () => table.UpdateEntityAsync(new TableEntity("p", "r") { ["N"] = 3L }, stale));

        Assert.Equal(412, ex.Status);
        Assert.Equal(2L, (await table.GetEntityAsync("p", "r"))!.GetInt64("N"));
    }

    [Fact]
    public async Task UpdateEntity_Merge_KeepsAbsentProperties()
    {
        var table = await azurite.NewTableAsync();
        var etag = await table.AddEntityAsync(new TableEntity("p", "r") { ["A"] = "a", ["B"] = "b" });

        await table.UpdateEntityAsync(new TableEntity("p", "r") { ["B"] = "b2" }, etag, TableUpdateMode.Merge);

        var read = await table.GetEntityAsync("p", "r");
        Assert.Equal("a", read!.GetString("A"));
        Assert.Equal("b2", read.GetString("B"));
    }

    [Fact]
    public async Task DeleteEntity_StaleETag_Throws412_CurrentETag_Deletes()
    {
        var table = await azurite.NewTableAsync();
        var first = await table.AddEntityAsync(new TableEntity("p", "r"));
        var second = await table.UpdateEntityAsync(new TableEntity("p", "r") { ["X"] = 1 }, first);

        var ex = await Assert.ThrowsAsync<RequestFailedException>(() => table.DeleteEntityAsync("p", "r", first));
        Assert.Equal(412, ex.Status);

        await table.DeleteEntityAsync("p", "r", second);
        Assert.Null(await table.GetEntityAsync("p", "r"));
    }

    [Fact]
    public async Task QueryAsync_MoreThanOneThousandRows_FollowsContinuation()
    {
        var table = await azurite.NewTableAsync();
        const int rows = 1_234;
        for (var start = 0; start < rows; start += 100)
        {
            var actions = Enumerable.Range(start, Math.Min(100, rows - start))
                .Select(i => new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("bulk", $"{i:D5}") { ["I"] = i }))
                .ToList();
            await table.SubmitTransactionAsync(actions);
        }

        var firstPage = await table.QueryPageAsync(TableFilter.Partition("bulk"));
        var all = new List<TableEntity>();
        await foreach (var row in table.QueryAsync(TableFilter.Partition("bulk")))
        {
            all.Add(row);
        }

        Assert.Equal(1000, firstPage.Items.Count);
        Assert.NotNull(firstPage.Continuation);
        Assert.Equal(rows, all.Count);
        Assert.Equal(Enumerable.Range(0, rows), all.Select(r => r.GetInt32("I")!.Value));
    }

    [Fact]
    public async Task QueryPage_FilterTopAndRowPrefix_ReturnsOnlyMatches()
    {
        var table = await azurite.NewTableAsync();
        foreach (var rk in new[] { "a-1", "a-2", "a-3", "b-1" })
        {
            await table.AddEntityAsync(new TableEntity("p", rk) { ["Who"] = rk == "a-2" ? "o'brien" : "x" });
        }

        var prefixed = await table.QueryPageAsync(TableFilter.PartitionRowPrefix("p", "a-"));
        var quoted = await table.QueryPageAsync($"Who eq {TableFilter.Quote("o'brien")}");
        var top = await table.QueryPageAsync(TableFilter.Partition("p"), maxPerPage: 2);

        Assert.Equal(["a-1", "a-2", "a-3"], prefixed.Items.Select(e => e.RowKey));
        Assert.Equal("a-2", Assert.Single(quoted.Items).RowKey);
        Assert.Equal(2, top.Items.Count);
        Assert.NotNull(top.Continuation);
    }

    [Fact]
    public async Task SubmitTransaction_OneOperationFails_WritesNothing()
    {
        var table = await azurite.NewTableAsync();
        await table.AddEntityAsync(new TableEntity("p", "exists"));
        await table.AddEntityAsync(new TableEntity("p", "other") { ["V"] = "original" });

        var ex = await Assert.ThrowsAsync<TableTransactionFailedException>(() => table.SubmitTransactionAsync(
        [
            new(TableTransactionActionType.Add, new TableEntity("p", "new-1")),
            new(TableTransactionActionType.UpsertReplace, new TableEntity("p", "other") { ["V"] = "changed" }),
            new(TableTransactionActionType.Add, new TableEntity("p", "exists")),
        ]));

        Assert.Equal(409, ex.Status);
        Assert.Equal(2, ex.FailedIndex);
        Assert.Null(await table.GetEntityAsync("p", "new-1"));
        Assert.Equal("original", (await table.GetEntityAsync("p", "other"))!.GetString("V"));
    }

    [Fact]
    public async Task SubmitTransaction_StaleIfMatch_Fails412AndWritesNothing()
    {
        var table = await azurite.NewTableAsync();
        var stale = await table.AddEntityAsync(new TableEntity("acct", "account") { ["Balance"] = 10L });
        await table.UpdateEntityAsync(new TableEntity("acct", "account") { ["Balance"] = 20L }, stale);

        var ex = await Assert.ThrowsAsync<TableTransactionFailedException>(() => table.SubmitTransactionAsync(
        [
            new(TableTransactionActionType.UpdateReplace, new TableEntity("acct", "account") { ["Balance"] = 30L }, stale),
            new(TableTransactionActionType.Add, new TableEntity("acct", "ledger-1")),
        ]));

        Assert.Equal(412, ex.Status);
        Assert.Equal(20L, (await table.GetEntityAsync("acct", "account"))!.GetInt64("Balance"));
        Assert.Null(await table.GetEntityAsync("acct", "ledger-1"));
    }

    [Fact]
    public async Task SubmitTransaction_Success_ReturnsETagsThatGuardTheNextWrite()
    {
        var table = await azurite.NewTableAsync();
        var etag = await table.AddEntityAsync(new TableEntity("acct", "account") { ["Balance"] = 0L });

        var etags = await table.SubmitTransactionAsync(
        [
            new(TableTransactionActionType.UpdateReplace, new TableEntity("acct", "account") { ["Balance"] = 5L }, etag),
            new(TableTransactionActionType.Add, new TableEntity("acct", "ledger-1")),
        ]);

        Assert.Equal(2, etags.Count);
        Assert.Equal((await table.GetEntityAsync("acct", "account"))!.ETag, etags[0]);
        await table.UpdateEntityAsync(new TableEntity("acct", "account") { ["Balance"] = 6L }, etags[0]);
    }

    [Fact]
    public async Task SubmitTransaction_HundredOperations_AllWritten_MoreIsRejectedLocally()
    {
        var table = await azurite.NewTableAsync();
        var hundred = Enumerable.Range(0, 100)
            .Select(i => new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("p", $"{i:D3}")))
            .ToList();

        await table.SubmitTransactionAsync(hundred);
        var count = 0;
        await foreach (var _ in table.QueryAsync(TableFilter.Partition("p")))
        {
            count++;
        }

        Assert.Equal(100, count);
        await Assert.ThrowsAsync<ArgumentException>(() => table.SubmitTransactionAsync(
            [.. Enumerable.Range(0, 101).Select(i => new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("q", $"{i}")))]));
        await Assert.ThrowsAsync<ArgumentException>(() => table.SubmitTransactionAsync(
            [new(TableTransactionActionType.Add, new TableEntity("a", "1")), new(TableTransactionActionType.Add, new TableEntity("b", "1"))]));
    }

    [Fact]
    public async Task SubmitTransaction_DeleteAndMerge_Applied()
    {
        var table = await azurite.NewTableAsync();
        var etag = await table.AddEntityAsync(new TableEntity("p", "gone"));
        await table.AddEntityAsync(new TableEntity("p", "merged") { ["A"] = "a" });

        await table.SubmitTransactionAsync(
        [
            new(TableTransactionActionType.Delete, new TableEntity("p", "gone"), etag),
            new(TableTransactionActionType.UpdateMerge, new TableEntity("p", "merged") { ["B"] = "b" }, ETag.All),
        ]);

        Assert.Null(await table.GetEntityAsync("p", "gone"));
        var merged = await table.GetEntityAsync("p", "merged");
        Assert.Equal("a", merged!.GetString("A"));
        Assert.Equal("b", merged.GetString("B"));
    }

    [Fact]
    public async Task DeleteIfExists_RemovesTheTableWithItsRows_AndASecondDeleteIsQuiet()
    {
        var table = await azurite.NewTableAsync();
        await table.AddEntityAsync(new TableEntity("p", "r") { ["V"] = "x" });

        await table.DeleteIfExistsAsync();
        await table.DeleteIfExistsAsync();

        var ex = await Assert.ThrowsAnyAsync<RequestFailedException>(() => table.AddEntityAsync(new TableEntity("p", "s")));
        Assert.Equal(404, ex.Status);
    }
}
