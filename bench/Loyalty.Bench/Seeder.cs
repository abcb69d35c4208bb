using Azure.Data.Tables;
using System.Globalization;
using Loyalty.Storage.Members;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;

namespace Loyalty.Bench;

/// <summary>A seeded member: id, card, phone.</summary>
internal sealed record SeededMember(string MemberId, string CardNumber, string Phone);

/// <summary>
/// Seeds members straight into storage (an API enrolment per member would make seeding the slowest part of the run):
/// profile, account with an opening balance, card, and the opening ledger entry, in one transaction per member, plus
/// the phone and card index rows. Written with the same row layout the app uses, so every invariant holds from the start.
/// </summary>
internal static class Seeder
{
    public const long OpeningPoints = 10_000;
    public const long OpeningPrincipal = 100_000;

    public static async Task<SeededMember[]> SeedAsync(TableStore store, string phoneHashKey, IReadOnlyList<string> stores, int count, int concurrency, string idPrefix = "M", string phonePrefix = "+86139", string? lastPurchase = null)
    {
        var members = new SeededMember[count];
        var now = DateTimeOffset.UtcNow;
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (i, ct) =>
        {
            var memberId = idPrefix + i.ToString("D12", CultureInfo.InvariantCulture).Replace('0', 'B');
            var card = Loyalty.Domain.Members.CardNumber.FromSeed("8860", memberId, 0).Value;
            var phone = phonePrefix + i.ToString("D8", CultureInfo.InvariantCulture);
            var storeId = stores[i % stores.Count];
            await store.Members.SubmitTransactionAsync(
            [
                Add(memberId, MemberStore.ProfileRow(memberId), ("Phone", phone), ("Name", "Bench " + i), ("Gender", "Unspecified"), ("StoreId", storeId), ("Channel", "Store"), ("MarketingConsent", lastPurchase is not null && i % 2 == 0), ("EnrolledAt", now)),
                Add(memberId, MemberStore.AccountRow(memberId), ("Points", OpeningPoints), ("Principal", OpeningPrincipal), ("Bonus", 0L), ("Tier", "standard"), ("NextSeq", 2L), ("ActiveCards", 1),
                    ("Stats", lastPurchase is null ? "{}" : "{\"l\":\"" + lastPurchase + "\"}")),
                Add(memberId, "card-" + card, ("CardNumber", card), ("Type", "Personal"), ("Status", "Active"), ("IssuedAt", now)),
                Add(memberId, MemberStore.LedgerRow(memberId, 1),
                    ("Seq", 1L), ("Type", "Adjustment"), ("Reason", "opening_balance"), ("Points", OpeningPoints), ("Principal", OpeningPrincipal), ("Bonus", 0L),
                    ("StoreId", storeId), ("Actor", "bench-seed"), ("IdempotencyKey", "seed-" + memberId), ("At", now),
                    ("PointsAfter", OpeningPoints), ("PrincipalAfter", OpeningPrincipal), ("BonusAfter", 0L)),
            ], ct);
            await store.MemberIndex.AddEntityAsync(new TableEntity(MemberStore.CardIndexKey(card), MemberStore.IndexRow(MemberStore.CardIndexKey(card))) { ["MemberId"] = memberId, ["ClaimedAt"] = now }, ct);
            await store.MemberIndex.AddEntityAsync(new TableEntity(MemberStore.PhoneIndexKey(Hashing.KeyedHex(phoneHashKey, phone)), MemberStore.IndexRow(MemberStore.PhoneIndexKey(Hashing.KeyedHex(phoneHashKey, phone)))) { ["MemberId"] = memberId, ["ClaimedAt"] = now }, ct);
            members[i] = new SeededMember(memberId, card, phone);
        });
        return members;
    }

    private static TableTransactionAction Add(string pk, string rk, params (string Name, object Value)[] properties)
    {
        var row = new TableEntity(pk, rk);
        foreach (var (name, value) in properties)
        {
            row[name] = value;
        }

        return new TableTransactionAction(TableTransactionActionType.Add, row);
    }
}
