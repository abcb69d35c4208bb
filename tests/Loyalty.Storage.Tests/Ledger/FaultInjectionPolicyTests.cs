using Azure;
using Azure.Data.Tables;
using Loyalty.Storage.Tables;
using Loyalty.Testing;
using Xunit;

namespace Loyalty.Storage.Tests.Ledger;

/// <summary>
/// The pipeline policy the app's fault tests run behind: each fault must do what it says on Azurite (or the tests that
/// rely on it prove nothing), and the ledger guard must really stop ledger rows from changing.
/// </summary>
public sealed class FaultInjectionPolicyTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Theory]
    [InlineData(Fault.UnavailableBeforeCommit, 503, false)]
    [InlineData(Fault.ConflictBeforeCommit, 412, false)]
    [InlineData(Fault.UnavailableAfterCommit, 503, true)]
    public async Task Fault_OnATransaction_FailsTheCall_AndCommitsOnlyWhenItSaysSo(Fault fault, int status, bool committed)
    {
        var (table, plan, policy) = await FaultyTableAsync();
        plan.ForceNext(fault);

        var ex = await Assert.ThrowsAnyAsync<RequestFailedException>(() => table.SubmitTransactionAsync(
            [new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("M1", "ledger-000000000001"))]));

        Assert.Equal(status, ex.Status);
        Assert.Equal(committed, await table.FindEntityAsync("M1", "ledger-000000000001") is not null);
        Assert.Equal(1, policy.Transactions);
        Assert.Equal(1, plan.Injected[fault]);
    }

    [Fact]
    public async Task TimeoutAfterCommit_CommitsAndThrowsWhatTheSdkThrowsOnANetworkTimeout()
    {
        var (table, plan, _) = await FaultyTableAsync();
        plan.ForceNext(Fault.TimeoutAfterCommit);

        var ex = await Assert.ThrowsAsync<TaskCanceledException>(() => table.AddEntityAsync(new TableEntity("M1", "profile")));

        Assert.IsType<TimeoutException>(ex.InnerException);
        Assert.NotNull(await table.FindEntityAsync("M1", "profile"));
    }

    [Fact]
    public async Task CommitGate_HoldsTransactionsUntilOpened()
    {
        var (table, _, policy) = await FaultyTableAsync();
        var gate = new TaskCompletionSource();
        policy.CommitGate = gate.Task;

        var held = table.SubmitTransactionAsync([new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("M1", "r"))]);
        await Task.Delay(300);
        var writtenWhileHeld = await table.FindEntityAsync("M1", "r");
        gate.SetResult();
        await held;

        Assert.Null(writtenWhileHeld);
        Assert.NotNull(await table.FindEntityAsync("M1", "r"));
        Assert.Equal(2, policy.Reads);
    }

    [Fact]
    public async Task Guard_RefusesUpdatesAndDeletesOfLedgerRows_AllowsInserts()
    {
        var (table, _, _) = await FaultyTableAsync();
        var row = new TableEntity("M1", "ledger-000000000001") { ["Points"] = 5L };
        await table.AddEntityAsync(row);

        await Assert.ThrowsAsync<InvalidOperationException>(() => table.UpdateEntityAsync(row, ETag.All, TableUpdateMode.Replace));
        await Assert.ThrowsAsync<InvalidOperationException>(() => table.UpsertEntityAsync(row, TableUpdateMode.Merge));
        await Assert.ThrowsAsync<InvalidOperationException>(() => table.DeleteEntityAsync("M1", row.RowKey, ETag.All));
        await Assert.ThrowsAsync<InvalidOperationException>(() => table.SubmitTransactionAsync(
            [new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("M1", "other")), new TableTransactionAction(TableTransactionActionType.UpdateMerge, row, ETag.All)]));
        await Assert.ThrowsAsync<InvalidOperationException>(() => table.DeleteRowsAsync("M1", [row.RowKey]));
        await table.SubmitTransactionAsync([new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("M1", "ledger-000000000002"))]);

        Assert.Equal(5L, (await table.FindEntityAsync("M1", row.RowKey))!.GetInt64("Points"));
        Assert.NotNull(await table.FindEntityAsync("M1", "ledger-000000000002"));
        Assert.Null(await table.FindEntityAsync("M1", "other"));
    }

    private async Task<(TableClient Table, FaultPlan Plan, FaultInjectionPolicy Policy)> FaultyTableAsync()
    {
        var name = (await azurite.NewTableAsync()).Name;
        var plan = new FaultPlan();
        var policy = new FaultInjectionPolicy(plan);
        return (azurite.TableWith(name, policy), plan, policy);
    }
}
