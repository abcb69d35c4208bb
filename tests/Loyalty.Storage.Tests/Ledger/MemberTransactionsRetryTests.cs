using Azure;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Loyalty.Domain.Common;
using Loyalty.Storage.Ledger;
using Loyalty.Storage.Members;
using Loyalty.Storage.Schema;
using Moq;
using Xunit;

namespace Loyalty.Storage.Tests.Ledger;

/// <summary>
/// How the member transaction engine reads the SDK's failures, with the Members table client doubled by Moq: answers
/// that Azurite cannot be made to give on demand (a 412 on every attempt, a 503 on the commit).
/// </summary>
public sealed class MemberTransactionsRetryTests
{
    private const string MemberId = "M1";
    private readonly Mock<TableClient> _members = new();
    private readonly IdempotencyContext _key = new("terminal-1", "key-1", "hash-1");

    public MemberTransactionsRetryTests()
    {
        var account = new TableEntity(MemberId, MemberRows.AccountKey(MemberId)) { ["Points"] = 100L, ["NextSeq"] = 1L, ["ActiveCards"] = 1, ETag = new ETag("\"v1\"") };
        _members.Setup(t => t.GetEntityIfExistsAsync<TableEntity>(MemberId, MemberRows.AccountKey(MemberId), null, It.IsAny<CancellationToken>()))
            .ReturnsAsync(Response.FromValue(account, Mock.Of<Response>()));
        _members.Setup(t => t.GetEntityIfExistsAsync<TableEntity>(MemberId, It.Is<string>(k => k.StartsWith(MemberRows.IdempotencyPrefix, StringComparison.Ordinal)), null, It.IsAny<CancellationToken>()))
            .ReturnsAsync(Mock.Of<NullableResponse<TableEntity>>(r => !r.HasValue));
    }

    [Fact]
    public async Task EveryCommitAnswers412_GivesUpAfterTenAttempts_WithContention()
    {
        _members.Setup(t => t.SubmitTransactionAsync(It.IsAny<IEnumerable<TableTransactionAction>>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new TableTransactionFailedException(new RequestFailedException(412, "stale", "UpdateConditionNotSatisfied", null)));

        var outcome = await Engine().ExecuteAsync(MemberId, _key, NoChange);

        Assert.Equal("contention", Assert.IsType<Refused>(outcome).Error.Code);
        _members.Verify(t => t.SubmitTransactionAsync(It.IsAny<IEnumerable<TableTransactionAction>>(), It.IsAny<CancellationToken>()), Times.Exactly(10));
    }

    [Fact]
    public async Task CommitAnswers503_IsNotRetriedAsContention_ButReachesTheCaller()
    {
        _members.Setup(t => t.SubmitTransactionAsync(It.IsAny<IEnumerable<TableTransactionAction>>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new RequestFailedException(503, "busy", "ServerBusy", null));

        var ex = await Assert.ThrowsAsync<RequestFailedException>(() => Engine().ExecuteAsync(MemberId, _key, NoChange));

        Assert.Equal(503, ex.Status);
        _members.Verify(t => t.SubmitTransactionAsync(It.IsAny<IEnumerable<TableTransactionAction>>(), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task CommitAnswers409_BecauseTheRequestWasDoneBefore_RepliesWithTheStoredResponse()
    {
        var stored = new TableEntity(MemberId, MemberTransactions.IdempotencyRowKey(_key)) { ["RequestHash"] = "hash-1", ["Status"] = 201, ["Body"] = """{"first":true}""" };
        _members.Setup(t => t.GetEntityIfExistsAsync<TableEntity>(MemberId, stored.RowKey, null, It.IsAny<CancellationToken>()))
            .ReturnsAsync(Response.FromValue(stored, Mock.Of<Response>()));
        _members.Setup(t => t.SubmitTransactionAsync(It.IsAny<IEnumerable<TableTransactionAction>>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new TableTransactionFailedException(new RequestFailedException(409, "exists", "EntityAlreadyExists", null)));

        var outcome = await Engine().ExecuteAsync(MemberId, _key, NoChange);

        var replay = Assert.IsType<Completed>(outcome);
        Assert.True(replay.Replayed);
        Assert.Equal("""{"first":true}""", replay.Body);
        _members.Verify(t => t.SubmitTransactionAsync(It.IsAny<IEnumerable<TableTransactionAction>>(), It.IsAny<CancellationToken>()), Times.Once);
    }

    private MemberTransactions Engine()
    {
        var names = new StorageNames("t", "q-");
        var store = new TableStore(names, n => n == names.Members ? _members.Object : Mock.Of<TableClient>(), _ => Mock.Of<QueueClient>());
        return new MemberTransactions(store, TimeProvider.System);
    }

    private static Task<Result<LedgerDecision>> NoChange(AccountState account, CancellationToken cancellationToken) =>
        Task.FromResult(Result<LedgerDecision>.Ok(new WriteDecision(null, b => new { points = b.Points }, WriteDecision.None)));
}
