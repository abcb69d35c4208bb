using Azure.Data.Tables;
using System.Globalization;
using Azure;
using Loyalty.Storage.Members;
using Loyalty.Storage.Tables;

namespace Loyalty.Bench;

/// <summary>
/// The storage bound: exactly the round trips a sale needs at its core (read the account; one entity-group transaction
/// replacing the account with If-Match and adding a ledger row and an idempotency row), sent straight to Azurite with
/// the same concurrency and no app in between, on the same seeded Members table and the same accounts the app uses
/// (Azurite's cost per request grows with table size, so a smaller table would flatter the bound). The rows written
/// are real ledger entries (+10 points), so the invariant check covers them too.
/// </summary>
internal static class StorageBound
{
    public static async Task<(int Committed, int Conflicts)> RunAsync(TableClient members, SeededMember[] accounts, int workers, TimeSpan duration, Recorder recorder, ISet<string> touched)
    {
        var committed = 0;
        var conflicts = 0;
        var until = DateTime.UtcNow + duration;
        await Task.WhenAll(Enumerable.Range(0, workers).Select(async w =>
        {
            var random = new Random(w);
            var n = 0;
            while (DateTime.UtcNow < until)
            {
                var pk = accounts[random.Next(accounts.Length)].MemberId;
                var key = $"bound-w{w}-{n++}";
                lock (touched)
                {
                    touched.Add(pk);
                }

                await recorder.TimeAsync("bound.read+transaction", async () =>
                {
                    var account = (await members.FindEntityAsync(pk, MemberStore.AccountRow(pk)))!;
                    var seq = account.GetInt64("NextSeq")!.Value;
                    var points = account.GetInt64("Points")!.Value + 10;
                    account["Points"] = points;
                    account["NextSeq"] = seq + 1;
                    try
                    {
                        await members.SubmitTransactionAsync(
                        [
                            new(TableTransactionActionType.UpdateReplace, account, account.ETag),
                            new(TableTransactionActionType.Add, new TableEntity(pk, MemberStore.LedgerRow(pk, seq))
                            {
                                ["Seq"] = seq, ["Type"] = "Adjustment", ["Reason"] = "bench.bound", ["Points"] = 10L, ["Principal"] = 0L, ["Bonus"] = 0L,
                                ["StoreId"] = "east-000", ["Actor"] = "bench", ["IdempotencyKey"] = key, ["At"] = DateTimeOffset.UtcNow,
                                ["PointsAfter"] = points, ["PrincipalAfter"] = account.GetInt64("Principal")!.Value, ["BonusAfter"] = account.GetInt64("Bonus")!.Value,
                            }),
                            new(TableTransactionActionType.Add, new TableEntity(pk, "idem-" + key) { ["Status"] = 201, ["Body"] = "{}" }),
                        ]);
                        Interlocked.Increment(ref committed);
                        return (0, (string?)null);
                    }
                    catch (RequestFailedException ex) when (ex.Status == 412)
                    {
                        Interlocked.Increment(ref conflicts);
                        return (0, (string?)null);
                    }
                });
            }
        }));
        return (committed, conflicts);
    }
}
