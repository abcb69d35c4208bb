using System.Globalization;
using Azure;
using Loyalty.Storage.Tables;

namespace Loyalty.Bench;

/// <summary>
/// The storage bound: exactly the round trips a sale needs at its core (read the account; one entity-group transaction
/// replacing the account with If-Match and adding a ledger row and an idempotency row), sent straight to Azurite with
/// the same concurrency and no app in between.
/// </summary>
internal static class StorageBound
{
    public static async Task<(int Committed, int Conflicts)> RunAsync(ITableClient table, int accounts, int workers, TimeSpan duration, Recorder recorder)
    {
        for (var start = 0; start < accounts; start += 100)
        {
            await Task.WhenAll(Enumerable.Range(start, Math.Min(100, accounts - start)).Select(i =>
                table.AddEntityAsync(new TableEntity(Key(i), "account") { ["Points"] = 0L, ["NextSeq"] = 1L })));
        }

        var committed = 0;
        var conflicts = 0;
        var until = DateTime.UtcNow + duration;
        await Task.WhenAll(Enumerable.Range(0, workers).Select(async w =>
        {
            var random = new Random(w);
            var n = 0;
            while (DateTime.UtcNow < until)
            {
                var pk = Key(random.Next(accounts));
                var key = $"w{w}-{n++}";
                await recorder.TimeAsync("bound.read+transaction", async () =>
                {
                    var account = (await table.GetEntityAsync(pk, "account"))!;
                    var seq = account.GetInt64("NextSeq")!.Value;
                    var next = new TableEntity(pk, "account") { ["Points"] = account.GetInt64("Points")!.Value + 10, ["NextSeq"] = seq + 1 };
                    try
                    {
                        await table.SubmitTransactionAsync(
                        [
                            new(TableTransactionActionType.UpdateReplace, next, account.ETag),
                            new(TableTransactionActionType.Add, new TableEntity(pk, "ledger-" + (999_999_999_999 - seq).ToString("D12", CultureInfo.InvariantCulture))
                            {
                                ["Seq"] = seq, ["Type"] = "Sale", ["Reason"] = "sale", ["Points"] = 10L, ["Principal"] = 0L, ["Bonus"] = 0L,
                                ["StoreId"] = "s", ["Actor"] = "bench", ["IdempotencyKey"] = key, ["At"] = DateTimeOffset.UtcNow,
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

    private static string Key(int i) => "B" + i.ToString("D8", CultureInfo.InvariantCulture);
}
