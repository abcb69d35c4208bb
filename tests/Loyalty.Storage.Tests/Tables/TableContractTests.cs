using Azure;
using Azure.Data.Tables;
using Azure.Data.Tables.Models;
using Loyalty.Storage.Tables;
using Loyalty.Testing;
using Xunit;

namespace Loyalty.Storage.Tests.Tables;

/// <summary>
/// What the app relies on from Azure.Data.Tables against Azurite: property types, If-Match, entity-group
/// transactions that write all or nothing and tell 409 from 412, paging, and table deletion.
/// </summary>
public sealed class TableContractTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task AddThenFind_RoundTripsEveryPropertyTypeTheAppWrites()
    {
        var table = await azurite.NewTableAsync();
        var when = new DateTimeOffset(2026, 11, 22, 8, 30, 15, 123, TimeSpan.Zero);
        var entity = new TableEntity("p'1 x", "r é 会")
        {
            ["Text"] = "会员 it's",
            ["Big"] = 9_007_199_254_740_993L,
            ["Small"] = 42,
            ["Flag"] = true,
            ["When"] = when,
            ["Absent"] = null,
        };

        var added = await table.AddEntityAsync(entity);
        var read = await table.FindEntityAsync("p'1 x", "r é 会");

        Assert.NotNull(read);
        Assert.Equal(added.Headers.ETag, read.ETag);
        Assert.Equal("会员 it's", read.GetString("Text"));
        Assert.Equal(9_007_199_254_740_993L, read.GetInt64("Big"));
        Assert.Equal(42, read.GetInt32("Small"));
        Assert.Equal(true, read.GetBoolean("Flag"));
        Assert.Equal(when, read.GetDateTimeOffset("When"));
        Assert.Null(read.GetString("Absent"));
        Assert.Equal(["Big", "Flag", "Small", "Text", "When"], read.Values().Select(p => p.Key).Where(k => k != "Absent").Order());
    }

    [Fact]
    public async Task FindEntity_Missing_ReturnsNull()
    {
        var table = await azurite.NewTableAsync();
        Assert.Null(await table.FindEntityAsync("nope", "nope"));
    }

    [Fact]
    public async Task AddEntity_Existing_Throws409EntityAlreadyExists()
    {
        var table = await azurite.NewTableAsync();
        await table.AddEntityAsync(new TableEntity("p", "r"));

        var ex = await Assert.ThrowsAsync<RequestFailedException>(() => table.AddEntityAsync(new TableEntity("p", "r")));

        Assert.Equal(409, ex.Status);
        Assert.Equal(TableErrorCode.EntityAlreadyExists.ToString(), ex.ErrorCode);
    }

    [Fact]
    public async Task UpdateEntity_StaleETag_Throws412AndKeepsTheWinner()
    {
        var table = await azurite.NewTableAsync();
        var stale = (await table.AddEntityAsync(new TableEntity("p", "r") { ["N"] = 1L })).Headers.ETag!.Value;
        await table.UpdateEntityAsync(new TableEntity("p", "r") { ["N"] = 2L }, stale, TableUpdateMode.Replace);

        var ex = await Assert.ThrowsAsync<RequestFailedException>(
            () => table.UpdateEntityAsync(new TableEntity("p", "r") { ["N"] = 3L }, stale, TableUpdateMode.Replace));

        Assert.Equal(412, ex.Status);
        Assert.Equal(2L, (await table.FindEntityAsync("p", "r"))!.GetInt64("N"));
    }

    [Fact]
    public async Task UpdateEntity_ReplaceDropsAbsentProperties_MergeKeepsThem()
    {
        var table = await azurite.NewTableAsync();
        await table.AddEntityAsync(new TableEntity("p", "replaced") { ["A"] = "a", ["B"] = "b" });
        await table.AddEntityAsync(new TableEntity("p", "merged") { ["A"] = "a", ["B"] = "b" });

        await table.UpdateEntityAsync(new TableEntity("p", "replaced") { ["B"] = "b2" }, ETag.All, TableUpdateMode.Replace);
        await table.UpdateEntityAsync(new TableEntity("p", "merged") { ["B"] = "b2" }, ETag.All, TableUpdateMode.Merge);

        var replaced = await table.FindEntityAsync("p", "replaced");
        var merged = await table.FindEntityAsync("p", "merged");
        Assert.Null(replaced!.GetString("A"));
        Assert.Equal("b2", replaced.GetString("B"));
        Assert.Equal("a", merged!.GetString("A"));
        Assert.Equal("b2", merged.GetString("B"));
    }

    [Fact]
    public async Task DeleteEntity_StaleETag_Throws412_CurrentETagDeletes_MissingRowIsQuiet()
    {
        var table = await azurite.NewTableAsync();
        var first = (await table.AddEntityAsync(new TableEntity("p", "r"))).Headers.ETag!.Value;
        var second = (await table.UpdateEntityAsync(new TableEntity("p", "r") { ["X"] = 1 }, first, TableUpdateMode.Replace)).Headers.ETag!.Value;

        var ex = await Assert.ThrowsAsync<RequestFailedException>(() => table.DeleteEntityAsync("p", "r", first));
        Assert.Equal(412, ex.Status);

        await table.DeleteEntityAsync("p", "r", second);
        await table.DeleteEntityAsync("p", "r", ETag.All);
        Assert.Null(await table.FindEntityAsync("p", "r"));
    }

    [Fact]
    public async Task Query_MoreThanOneThousandRows_FollowsContinuations()
    {
        var table = await azurite.NewTableAsync();
        const int rows = 1_234;
        for (var start = 0; start < rows; start += 100)
        {
            await table.SubmitTransactionAsync(Enumerable.Range(start, Math.Min(100, rows - start))
                .Select(i => new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("bulk", $"{i:D5}") { ["I"] = i })));
        }

        var firstPage = await table.QueryPageAsync(TableFilter.Partition("bulk"));
        var secondPage = await table.QueryPageAsync(TableFilter.Partition("bulk"), continuation: TableContinuation.Decode(firstPage.Continuation!.Encode()));
        var all = new List<TableEntity>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableFilter.Partition("bulk")))
        {
            all.Add(row);
        }

        Assert.Equal(1000, firstPage.Items.Count);
        Assert.Equal(rows - 1000, secondPage.Items.Count);
        Assert.Null(secondPage.Continuation);
        Assert.Equal("01000", secondPage.Items[0].RowKey);
        Assert.Equal(Enumerable.Range(0, rows), all.Select(r => r.GetInt32("I")!.Value));
    }

    [Fact]
    public async Task QueryPage_RowPrefixQuotedValueTopAndSelect_ReturnOnlyWhatWasAskedFor()
    {
        var table = await azurite.NewTableAsync();
        foreach (var rk in new[] { "a-1", "a-2", "a-3", "b-1" })
        {
            await table.AddEntityAsync(new TableEntity("p", rk) { ["Who"] = rk == "a-2" ? "o'brien" : "x", ["Other"] = 1 });
        }

        var prefixed = await table.QueryPageAsync(TableFilter.PartitionRowPrefix("p", "a-"));
        var quoted = await table.QueryPageAsync($"Who eq {TableFilter.Quote("o'brien")}");
        var top = await table.QueryPageAsync(TableFilter.Partition("p"), maxPerPage: 2);
        var narrow = await table.QueryPageAsync(TableFilter.Partition("p"), select: ["Who"]);

        Assert.Equal(["a-1", "a-2", "a-3"], prefixed.Items.Select(e => e.RowKey));
        Assert.Equal("a-2", Assert.Single(quoted.Items).RowKey);
        Assert.Equal(2, top.Items.Count);
        Assert.NotNull(top.Continuation);
        Assert.All(narrow.Items, e => Assert.Null(e.GetInt32("Other")));
    }

    [Fact]
    public void Continuation_ThatIsNotOneOfOurs_IsRejected()
    {
        Assert.Null(TableContinuation.Decode("%%%"));
        Assert.Null(TableContinuation.Decode("abc"));
        Assert.Null(TableContinuation.Decode(Convert.ToBase64String("pk rk"u8.ToArray())));
        Assert.Null(TableContinuation.Decode(""));
        Assert.Equal("pk rk", TableContinuation.Decode(new TableContinuation("pk rk").Encode())!.Token);
    }

    [Fact]
    public async Task Transaction_OneOperationFails_WritesNothing_AndNamesTheOperation()
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
        Assert.Equal(TableErrorCode.EntityAlreadyExists.ToString(), ex.ErrorCode);
        Assert.Equal(2, ex.FailedTransactionActionIndex);
        Assert.Null(await table.FindEntityAsync("p", "new-1"));
        Assert.Equal("original", (await table.FindEntityAsync("p", "other"))!.GetString("V"));
    }

    [Fact]
    public async Task Transaction_StaleIfMatchOnTheAccount_Fails412AndWritesNothing()
    {
        var table = await azurite.NewTableAsync();
        var stale = (await table.AddEntityAsync(new TableEntity("acct", "account") { ["Balance"] = 10L })).Headers.ETag!.Value;
        await table.UpdateEntityAsync(new TableEntity("acct", "account") { ["Balance"] = 20L }, stale, TableUpdateMode.Replace);

        var ex = await Assert.ThrowsAsync<TableTransactionFailedException>(() => table.SubmitTransactionAsync(
        [
            new(TableTransactionActionType.UpdateReplace, new TableEntity("acct", "account") { ["Balance"] = 30L }, stale),
            new(TableTransactionActionType.Add, new TableEntity("acct", "ledger-1")),
        ]));

        Assert.Equal(412, ex.Status);
        Assert.Equal(TableErrorCode.UpdateConditionNotSatisfied.ToString(), ex.ErrorCode);
        Assert.Equal(20L, (await table.FindEntityAsync("acct", "account"))!.GetInt64("Balance"));
        Assert.Null(await table.FindEntityAsync("acct", "ledger-1"));
    }

    [Fact]
    public async Task Transaction_Success_ReturnsETagsThatGuardTheNextWrite()
    {
        var table = await azurite.NewTableAsync();
        var etag = (await table.AddEntityAsync(new TableEntity("acct", "account") { ["Balance"] = 0L })).Headers.ETag!.Value;

        var responses = await table.SubmitTransactionAsync(
        [
            new(TableTransactionActionType.UpdateReplace, new TableEntity("acct", "account") { ["Balance"] = 5L }, etag),
            new(TableTransactionActionType.Add, new TableEntity("acct", "ledger-1")),
        ]);

        Assert.Equal(2, responses.Value.Count);
        var next = responses.Value[0].Headers.ETag!.Value;
        Assert.Equal((await table.FindEntityAsync("acct", "account"))!.ETag, next);
        await table.UpdateEntityAsync(new TableEntity("acct", "account") { ["Balance"] = 6L }, next, TableUpdateMode.Replace);
    }

    [Fact]
    public async Task Transaction_HundredOperations_AllWritten()
    {
        var table = await azurite.NewTableAsync();

        await table.SubmitTransactionAsync(Enumerable.Range(0, 100)
            .Select(i => new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("p", $"{i:D3}"))));
        var count = 0;
        await foreach (var _ in table.QueryAsync<TableEntity>(TableFilter.Partition("p")))
        {
            count++;
        }

        Assert.Equal(100, count);
    }

    [Fact]
    public async Task DeleteRows_RemovesEveryKey_InChunksOfAHundred()
    {
        var table = await azurite.NewTableAsync();
        var keys = Enumerable.Range(0, 150).Select(i => $"{i:D3}").ToList();
        foreach (var chunk in keys.Chunk(100))
        {
            await table.SubmitTransactionAsync(chunk.Select(k => new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("p", k))));
        }

        await table.DeleteRowsAsync("p", keys);

        Assert.Empty((await table.QueryPageAsync(TableFilter.Partition("p"))).Items);
    }

    [Fact]
    public async Task DeleteTable_RemovesItWithItsRows_AndASecondDeleteIsQuiet()
    {
        var table = await azurite.NewTableAsync();
        await table.AddEntityAsync(new TableEntity("p", "r") { ["V"] = "x" });

        await azurite.Tables.DeleteTableAsync(table.Name);
        await azurite.Tables.DeleteTableAsync(table.Name);

        var ex = await Assert.ThrowsAnyAsync<RequestFailedException>(() => table.AddEntityAsync(new TableEntity("p", "s")));
        Assert.Equal(404, ex.Status);
    }
}
