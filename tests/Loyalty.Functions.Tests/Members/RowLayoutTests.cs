using Azure.Data.Tables;
using Loyalty.Functions.Tests.Support;
using Loyalty.Storage.Members;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;
using Xunit;
using static Loyalty.Functions.Tests.Support.Api;

namespace Loyalty.Functions.Tests.Members;

/// <summary>
/// Row layout 2: no two members share a row key in the Members table, and no two index rows share one in MemberIndex
/// (Azurite finds a row by its row key first, so a key every member has costs a step per member on each access).
/// </summary>
public sealed class RowLayoutTests(LoyaltyApp app) : IClassFixture<LoyaltyApp>
{
    [Fact]
    public async Task TwoMembersWithTheSameHistory_ShareNoRowKey_AndTheStoreRecordsLayout2()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var members = new[] { await app.EnrolAsync(), await app.EnrolAsync() };
        var keys = new List<HashSet<string>>();
        foreach (var (memberId, _) in members)
        {
            await admin.PostOkAsync($"/api/members/{memberId}/top-ups", new { amount = 10_000, storeId = "sh-001" });
            await admin.PostOkAsync($"/api/members/{memberId}/adjustments", new { points = 50, reason = "补偿" });
            var rows = new HashSet<string>(StringComparer.Ordinal);
            await foreach (var row in app.Store.Members.QueryAsync<TableEntity>(TableFilter.Partition(memberId), select: ["RowKey"]))
            {
                rows.Add(row.RowKey);
            }

            // Profile, account, card, two ledger entries, two idempotency records at least; the outbox rows may be
            // dispatched (deleted) already.
            Assert.True(rows.Count >= 7, $"{memberId} has {rows.Count} rows");
            Assert.Contains(MemberStore.AccountRow(memberId), rows);
            Assert.Contains(MemberStore.ProfileRow(memberId), rows);
            Assert.Contains(MemberStore.LedgerRow(memberId, 1), rows);
            Assert.Contains(MemberStore.LedgerRow(memberId, 2), rows);
            keys.Add(rows);
        }

        Assert.Empty(keys[0].Intersect(keys[1]));
        foreach (var (memberId, card) in members)
        {
            var index = await app.Store.MemberIndex.FindEntityAsync(MemberStore.CardIndexKey(card), MemberStore.IndexRow(MemberStore.CardIndexKey(card)));
            Assert.Equal(memberId, index?.GetString("MemberId"));
        }

        var layout = await app.Store.Config.FindEntityAsync("storage-layout", "current");
        Assert.Equal(StorageLayout.Current, layout?.GetInt32("Version"));
    }
}
