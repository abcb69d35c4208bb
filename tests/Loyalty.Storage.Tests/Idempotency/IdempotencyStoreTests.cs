using Azure;
using Azure.Core;
using Loyalty.Storage.Idempotency;
using Loyalty.Storage.Schema;
using Loyalty.Testing;
using Xunit;

namespace Loyalty.Storage.Tests.Idempotency;

/// <summary>
/// Claims on Azurite with the SDK's own retries on, behind a policy placed per retry: a write that lands while its
/// answer is lost is sent again by the SDK, and that second try meets the row the first one wrote.
/// </summary>
public sealed class IdempotencyStoreTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(Fault.UnavailableAfterCommit)]
    [InlineData(Fault.TimeoutAfterCommit)]
    public async Task AClaimWhoseAnswerWasLost_IsStillThisAttempts_NotInFlight(Fault fault)
    {
        var (store, plan) = await StoreAsync();
        plan.ForceNext(fault);

        var claim = await store.ClaimAsync("terminal-1", "key-1", "hash-1", "{}", Lease);

        Assert.Equal(1, plan.Injected[fault]);
        Assert.Equal(ClaimOutcome.Started, claim.Outcome);

        // The lease is this attempt's: it can save state (also when that answer is lost) and complete, and a later
        // retry of the request replays.
        plan.ForceNext(fault, when: "PUT ");
        var saved = await store.SaveStateAsync(claim.Record!, """{"card":"1"}""");
        Assert.Equal(2, plan.Injected[fault]);
        await store.CompleteAsync(saved, 201, """{"ok":true}""");
        var replay = await store.ClaimAsync("terminal-1", "key-1", "hash-1", "{}", Lease);
        Assert.Equal(ClaimOutcome.Replay, replay.Outcome);
        Assert.Equal("""{"ok":true}""", replay.Record!.Body);
    }

    [Fact]
    public async Task ASecondRequestWithTheKey_WhileTheFirstHoldsTheLease_IsInFlight()
    {
        var (store, _) = await StoreAsync();
        var first = await store.ClaimAsync("terminal-1", "key-1", "hash-1", "{}", Lease);

        var second = await store.ClaimAsync("terminal-1", "key-1", "hash-1", "{}", Lease);
        var other = await store.ClaimAsync("terminal-1", "key-1", "hash-2", "{}", Lease);

        Assert.Equal(ClaimOutcome.Started, first.Outcome);
        Assert.Equal(ClaimOutcome.InFlight, second.Outcome);
        Assert.Equal(ClaimOutcome.Mismatch, other.Outcome);
    }

    [Fact]
    public async Task AResumeWhoseAnswerWasLost_IsStillThisAttempts()
    {
        var (store, plan) = await StoreAsync();
        var crashed = await store.ClaimAsync("terminal-1", "key-1", "hash-1", """{"card":"1"}""", TimeSpan.FromMilliseconds(1));
        await Task.Delay(50);
        plan.ForceNext(Fault.UnavailableAfterCommit, when: "PUT ");

        var resumed = await store.ClaimAsync("terminal-1", "key-1", "hash-1", "{}", Lease);

        Assert.Equal(ClaimOutcome.Started, crashed.Outcome);
        Assert.Equal(1, plan.Injected[Fault.UnavailableAfterCommit]);
        Assert.Equal(ClaimOutcome.Resumed, resumed.Outcome);
        Assert.Equal("""{"card":"1"}""", resumed.Record!.State);

        // The attempt that lost its lease can no longer save over the one that resumed.
        await Assert.ThrowsAsync<RequestFailedException>(() => store.SaveStateAsync(crashed.Record!, """{"card":"2"}"""));
        Assert.Equal(ClaimOutcome.InFlight, (await store.ClaimAsync("terminal-1", "key-1", "hash-1", "{}", Lease)).Outcome);
    }

    private async Task<(IdempotencyStore Store, FaultPlan Plan)> StoreAsync()
    {
        var names = new StorageNames(AzuriteServer.UniqueName("i")[..12]);
        var plan = new FaultPlan();
        var policy = new FaultInjectionPolicy(plan);
        var tables = new TableStore(
            names,
            name => name == names.Idempotency ? azurite.TableWith(name, policy, HttpPipelinePosition.PerRetry) : azurite.Tables.GetTableClient(name),
            azurite.Queues.GetQueueClient);
        await tables.Idempotency.CreateIfNotExistsAsync();
        return (new IdempotencyStore(tables, TimeProvider.System), plan);
    }
}
