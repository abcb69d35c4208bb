using Azure.Data.Tables;
using Azure;
using Loyalty.Domain.Members;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;

namespace Loyalty.Storage.Members;

/// <summary>
/// Members: the member partition (profile, account, cards) and the phone and card index. Index rows are claimed
/// before the member partition is written, so a crash leaves at worst an index row pointing at a member that does
/// not exist yet; such a claim is taken over once it is older than <see cref="AbandonedClaimAge"/>.
/// </summary>
public sealed class MemberStore(TableStore store, TimeProvider time)
{
    /// <summary>How old an index claim whose member never appeared must be before another enrolment may take it.</summary>
    public static readonly TimeSpan AbandonedClaimAge = TimeSpan.FromMinutes(5);

    /// <summary>RowKey of a member's account row (balances, tier, stats, tags).</summary>
    public static string AccountRow(string memberId) => MemberRows.AccountKey(memberId);

    /// <summary>RowKey of a member's profile row.</summary>
    public static string ProfileRow(string memberId) => MemberRows.ProfileKey(memberId);

    /// <summary>
    /// A query filter for the account and profile rows of every member (a scan of the table, paged): the account row
    /// sorts before the profile row in each partition.
    /// </summary>
    public static string AccountAndProfileRows { get; } =
        $"(RowKey ge {TableFilter.Quote(MemberRows.AccountPrefix)} and RowKey lt {TableFilter.Quote(Upper(MemberRows.AccountPrefix))}) or " +
        $"(RowKey ge {TableFilter.Quote(MemberRows.ProfilePrefix)} and RowKey lt {TableFilter.Quote(Upper(MemberRows.ProfilePrefix))})";

    /// <summary>Whether <paramref name="row"/> is its member's account row.</summary>
    public static bool IsAccountRow(TableEntity row)
    {
        ArgumentNullException.ThrowIfNull(row);
        return row.RowKey == AccountRow(row.PartitionKey);
    }

    /// <summary>Whether <paramref name="row"/> is its member's profile row.</summary>
    public static bool IsProfileRow(TableEntity row)
    {
        ArgumentNullException.ThrowIfNull(row);
        return row.RowKey == ProfileRow(row.PartitionKey);
    }

    /// <summary>Row key of a ledger entry.</summary>
    public static string LedgerRow(string memberId, long seq) => MemberRows.LedgerRowKey(memberId, seq);

    /// <summary>Row key of an index row: its partition key again, unique, so Azurite finds it without scanning (see MemberRows).</summary>
    public static string IndexRow(string indexKey) => indexKey;

    private static string Upper(string prefix) => prefix[..^1] + (char)(prefix[^1] + 1);

    /// <summary>Index key of a phone (by keyed hash).</summary>
    public static string PhoneIndexKey(string phoneHash) => "phone-" + phoneHash;

    /// <summary>Index key of a card number.</summary>
    public static string CardIndexKey(string cardNumber) => "card-" + cardNumber;

    /// <summary>
    /// Claims an index key for <paramref name="memberId"/>. Returns the member the key belongs to afterwards:
    /// <paramref name="memberId"/> when the claim holds, another id when the key is taken.
    /// </summary>
    public async Task<string> ClaimIndexAsync(string indexKey, string memberId, CancellationToken cancellationToken = default)
    {
        for (var attempt = 0; ; attempt++)
        {
            var row = new TableEntity(indexKey, IndexRow(indexKey)) { ["MemberId"] = memberId, ["ClaimedAt"] = time.GetUtcNow() };
            try
            {
                await store.MemberIndex.AddEntityAsync(row, cancellationToken);
                return memberId;
            }
            catch (RequestFailedException ex) when (ex.Status == 409)
            {
                // Held already: by us (a retry), by a live member, or by an abandoned attempt.
            }

            var existing = await store.MemberIndex.FindEntityAsync(indexKey, IndexRow(indexKey), cancellationToken);
            if (existing is null)
            {
                continue;
            }

            var owner = existing.Require("MemberId");
            if (owner == memberId || await ExistsAsync(owner, cancellationToken))
            {
                return owner;
            }

            var claimedAt = existing.GetDateTimeOffset("ClaimedAt") ?? DateTimeOffset.MinValue;
            if (time.GetUtcNow() - claimedAt < AbandonedClaimAge || attempt > 3)
            {
                return owner;
            }

            try
            {
                await store.MemberIndex.UpdateEntityAsync(row, existing.ETag, TableUpdateMode.Replace, cancellationToken);
                return memberId;
            }
            catch (RequestFailedException ex) when (ex.Status is 412 or 404)
            {
                // Another enrolment moved first; look again.
            }
        }
    }

    /// <summary>Gives back an index key claimed by <paramref name="memberId"/> that its member will not use (a batch row refused after claiming).</summary>
    public async Task ReleaseIndexAsync(string indexKey, string memberId, CancellationToken cancellationToken = default)
    {
        var existing = await store.MemberIndex.GetEntityIfExistsAsync<TableEntity>(indexKey, IndexRow(indexKey), cancellationToken: cancellationToken);
        if (existing.HasValue && existing.Value!.GetString("MemberId") == memberId && !await ExistsAsync(memberId, cancellationToken))
        {
            try
            {
                await store.MemberIndex.DeleteEntityAsync(indexKey, IndexRow(indexKey), existing.Value.ETag, cancellationToken);
            }
            catch (RequestFailedException ex) when (ex.Status is 404 or 412)
            {
                // Gone or taken over meanwhile.
            }
        }
    }

    /// <summary>
    /// Writes a new member partition (profile, account, first card) in one transaction. The account is empty, in the
    /// entry tier unless <paramref name="account"/> says otherwise (no tier yet, starting progress). Repeating it after
    /// a success is harmless.
    /// </summary>
    public async Task CreateAsync(MemberProfile profile, MemberCard card, MemberAccount? account = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(card);
        var accountRow = MemberRows.ToAccountRow(profile.MemberId, account ?? MemberAccount.Empty);
        accountRow["NextEvent"] = 2L;
        accountRow["LastOutbox"] = Events.OutboxRows.Key(profile.MemberId, 1);
        try
        {
            await store.Members.SubmitTransactionAsync(
            [
                new(TableTransactionActionType.Add, MemberRows.ToProfileRow(profile)),
                new(TableTransactionActionType.Add, accountRow),
                new(TableTransactionActionType.Add, MemberRows.ToCardRow(profile.MemberId, card)),
                new(TableTransactionActionType.Add, Events.OutboxRows.ToRow(profile.MemberId, profile.MemberId, 1, [EnrolledEvent(profile, card, accountRow.GetString("Tier"))], profile.EnrolledAt)),
            ],
                cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            // Written by an earlier attempt of the same enrolment, or a genuine clash of random ids.
            if (!await ExistsAsync(profile.MemberId, cancellationToken))
            {
                throw;
            }
        }
    }

    /// <summary>
    /// The member's first event. Events carry ids, amounts and states, not personal data (name, phone, birthday): a
    /// system that needs the profile reads it with its own API key.
    /// </summary>
    private static Events.EventDraft EnrolledEvent(MemberProfile profile, MemberCard card, string? tier) => new(
        Loyalty.Domain.Events.EventCatalogue.MemberEnrolled,
        new System.Text.Json.Nodes.JsonObject
        {
            ["memberId"] = profile.MemberId,
            ["storeId"] = profile.StoreId,
            ["channel"] = System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(profile.Channel.ToString()),
            ["enrolledAt"] = profile.EnrolledAt,
            ["tier"] = tier,
            ["marketingConsent"] = profile.MarketingConsent,
            ["card"] = new System.Text.Json.Nodes.JsonObject
            {
                ["cardNumber"] = card.CardNumber,
                ["cardType"] = System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(card.Type.ToString()),
                ["status"] = System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(card.Status.ToString()),
            },
        });

    /// <summary>One card of a member, with its row's ETag; null when the member has no such card.</summary>
    public async Task<MemberCard?> GetCardAsync(string memberId, string cardNumber, CancellationToken cancellationToken = default)
    {
        var row = await store.Members.FindEntityAsync(memberId, MemberRows.CardPrefix + cardNumber, cancellationToken);
        return row is null ? null : MemberRows.FromCardRow(row);
    }

    /// <summary>The raw card row (for conditional updates).</summary>
    public Task<TableEntity?> GetCardRowAsync(string memberId, string cardNumber, CancellationToken cancellationToken = default) =>
        store.Members.FindEntityAsync(memberId, MemberRows.CardPrefix + cardNumber, cancellationToken);

    /// <summary>Any row of a member partition (sale records, refunds).</summary>
    public Task<TableEntity?> GetRowAsync(string memberId, string rowKey, CancellationToken cancellationToken = default) =>
        store.Members.FindEntityAsync(memberId, rowKey, cancellationToken);

    /// <summary>The row of a card, for writing in a member transaction.</summary>
    public static TableEntity CardRow(string memberId, MemberCard card) => MemberRows.ToCardRow(memberId, card);

    /// <summary>A card from its row.</summary>
    public static MemberCard CardFrom(TableEntity row) => MemberRows.FromCardRow(row);

    /// <summary>True when the member's profile row exists.</summary>
    public async Task<bool> ExistsAsync(string memberId, CancellationToken cancellationToken = default) =>
        await store.Members.FindEntityAsync(memberId, MemberRows.ProfileKey(memberId), cancellationToken) is not null;

    /// <summary>Reads a member's profile, account and cards; null when unknown.</summary>
    public async Task<MemberSnapshot?> GetAsync(string memberId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(memberId);
        var profileTask = store.Members.FindEntityAsync(memberId, MemberRows.ProfileKey(memberId), cancellationToken);
        var accountTask = store.Members.FindEntityAsync(memberId, MemberRows.AccountKey(memberId), cancellationToken);
        var cardsTask = ReadCardsAsync(memberId, cancellationToken);
        await Task.WhenAll(profileTask, accountTask, cardsTask);
        var (profile, account, cards) = (await profileTask, await accountTask, await cardsTask);
        return profile is null || account is null
            ? null
            : new MemberSnapshot(MemberRows.FromProfileRow(profile), MemberRows.FromAccountRow(account), cards);
    }

    private async Task<IReadOnlyList<MemberCard>> ReadCardsAsync(string memberId, CancellationToken cancellationToken)
    {
        var cards = new List<MemberCard>();
        await foreach (var row in store.Members.QueryAsync<TableEntity>(TableFilter.PartitionRowPrefix(memberId, MemberRows.CardPrefix), cancellationToken: cancellationToken))
        {
            cards.Add(MemberRows.FromCardRow(row));
        }

        return cards;
    }

    /// <summary>The member an index key points at, if that member exists.</summary>
    public async Task<string?> FindByIndexAsync(string indexKey, CancellationToken cancellationToken = default)
    {
        var row = await store.MemberIndex.FindEntityAsync(indexKey, IndexRow(indexKey), cancellationToken);
        var memberId = row?.GetString("MemberId");
        return memberId is not null && await ExistsAsync(memberId, cancellationToken) ? memberId : null;
    }
}
