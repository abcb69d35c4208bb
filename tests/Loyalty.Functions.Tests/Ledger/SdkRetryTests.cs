using System.Net;
using System.Text.Json;
using Loyalty.Functions.Tests.Support;
using Loyalty.Testing;
using Xunit;

namespace Loyalty.Functions.Tests.Ledger;

/// <summary>Its own app: the Members table's faults come from the network (the fault proxy), behind the SDK's retry policy, as a real 503 would.</summary>
public sealed class SdkRetriedApp : LoyaltyApp
{
    protected override bool LocalTriggers => false;

    protected override bool FaultProxy => true;

    protected override int StorageRetries => 3;
}

/// <summary>
/// The SDK retries a 503 by itself, also for an entity-group transaction that had committed and whose answer was
/// lost. Its second send then collides with its own first (the idempotency row exists, the account's ETag moved):
/// the engine must read again and answer with the first result, charging nothing twice.
/// </summary>
public sealed class SdkRetryTests(SdkRetriedApp app) : IClassFixture<SdkRetriedApp>
{
    [Theory]
    [InlineData(Fault.UnavailableAfterCommit)]
    [InlineData(Fault.UnavailableBeforeCommit)]
    public async Task TopUp_WhoseCommitTheSdkRetries_IsAppliedOnce_AndAnswersOnce(Fault fault)
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (memberId, _) = await app.EnrolAsync();
        var before = app.MembersTable.Transactions;
        var injected = app.Faults.Injected.GetValueOrDefault(fault);

        app.Faults.ForceNext(fault);
        var response = await admin.PostAsync($"/api/members/{memberId}/top-ups", new { amount = 1_000, storeId = "sh-001" }, Guid.NewGuid().ToString());

        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{response.StatusCode} after {app.MembersTable.Transactions - before} transactions: {await response.Content.ReadAsStringAsync()}");
        Assert.Equal(injected + 1, app.Faults.Injected[fault]);
        Assert.True(app.MembersTable.Transactions >= before + 2, "the SDK sent the transaction again");
        var receipt = await response.JsonAsync();
        Assert.Equal(1_000, receipt.GetProperty("balances").GetProperty("storedValue").GetProperty("principal").GetInt64());
        var (_, principal, _) = await admin.BalancesAsync(memberId);
        Assert.Equal(1_000, principal);
        Assert.Equal(1, await admin.LedgerCountAsync(memberId));
    }
}
