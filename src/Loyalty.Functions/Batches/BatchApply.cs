using System.Text.Json;
using Azure.Data.Tables;
using Loyalty.Domain.Common;
using Loyalty.Domain.Ledger;
using Loyalty.Domain.Members;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Http;
using Loyalty.Functions.Ledger;
using Loyalty.Functions.StoredValue;
using Loyalty.Storage.Ledger;
using Loyalty.Storage.Members;
using Loyalty.Storage.Org;
using Loyalty.Storage.Schema;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Batches;

/// <summary>What became of one row: <c>applied</c> (now or by an earlier attempt) or <c>failed</c> with a code and message.</summary>
internal sealed record BatchRowResult(int Row, string Status, string? MemberId = null, string? Code = null, string? Message = null)
{
    public bool Applied => Status == "applied";
}

/// <summary>The receipt of an opening-balance entry.</summary>
internal sealed record OpeningReceipt(string MemberId, string BatchId, int Row, long Points, long Principal, long Bonus, BalancesDto Balances);

/// <summary>
/// Applies one row of a batch, exactly once however often it is tried: everything it writes is keyed by the batch and
/// the row. A member row's id and card number are derived from (batch, row), its index claims and partition are
/// created as enrolment creates them, and its opening balances are one ledger entry (<c>opening</c>) under the
/// idempotency key <c>row-{n}</c> of scope <c>batch:{batchId}</c>; a top-up row is the top-up itself under the same key.
/// </summary>
internal sealed class BatchApply(
    MemberStore members,
    MemberTransactions transactions,
    TableStore store,
    OrgStore org,
    Programme.ProgrammeConfig programme,
    TopUp topUp,
    Events.EventDispatcher events,
    TimeProvider time,
    IOptions<LoyaltyOptions> options)
{
    /// <summary>Imports a member row.</summary>
    public async Task<BatchRowResult> ImportMemberAsync(string batchId, MemberImportRow row, string actor, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(row);
        var memberId = MemberId.FromSeed($"batch\n{batchId}\n{row.Row}");
        var rules = await programme.GetRulesAsync(ct);

        // No look-up first: on a retry the claims find themselves and the partition's creation finds it exists.
        var phoneKey = MemberStore.PhoneIndexKey(Hashing.KeyedHex(options.Value.PhoneHashKey, row.Phone));
        if (await members.ClaimIndexAsync(phoneKey, memberId, ct) != memberId)
        {
            return new BatchRowResult(row.Row, "failed", null, "duplicate_phone", "A member with this phone number already exists.");
        }

        string? card = null;
        for (var salt = 0; card is null; salt++)
        {
            var candidate = row.CardNumber ?? CardNumber.FromSeed(options.Value.CardPrefix, memberId, salt).Value;
            if (await members.ClaimIndexAsync(MemberStore.CardIndexKey(candidate), memberId, ct) == memberId)
            {
                card = candidate;
            }
            else if (row.CardNumber is not null || salt >= 5)
            {
                await members.ReleaseIndexAsync(phoneKey, memberId, ct);
                return new BatchRowResult(row.Row, "failed", null, "card_taken", "This card number belongs to another member.");
            }
        }

        var now = time.GetUtcNow();
        var birthday = row.Birthday is null ? (DateOnly?)null : DateOnly.ParseExact(row.Birthday, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var profile = new MemberProfile(memberId, row.Phone, row.Name, birthday, Gender.Unspecified, row.StoreId, EnrolmentChannel.BatchImport, false, now);
        var tier = row.Tier ?? (rules.Policy.EntryOn == Domain.Programme.TierEntry.Enrolment ? rules.Tiers[0].Code : string.Empty);

        // The work lists the scheduled jobs read, before the member exists (a listed id without a member is skipped).
        var enrolledOn = options.Value.LocalDay(now);
        var lists = new List<Task>
        {
            store.Schedules.UpsertEntityAsync(new TableEntity(Campaigns.BirthdayCalendar.AnniversaryPartition(enrolledOn), memberId) { ["Year"] = enrolledOn.Year }, TableUpdateMode.Replace, cancellationToken: ct),
        };
        if (birthday is { } b)
        {
            lists.Add(store.Schedules.UpsertEntityAsync(new TableEntity(Campaigns.BirthdayCalendar.Partition(b), memberId), TableUpdateMode.Replace, cancellationToken: ct));
        }

        if (tier.Length > 0 && tier != rules.Tiers[0].Code)
        {
            lists.Add(store.Schedules.UpsertEntityAsync(new TableEntity(Programme.TierEvaluation.Partition, memberId), TableUpdateMode.Replace, cancellationToken: ct));
        }

        await Task.WhenAll(lists);
        await members.CreateAsync(profile, new MemberCard(card, CardType.Personal, CardStatus.Active, now), MemberAccount.Empty with { Tier = tier }, ct);

        if (row.Principal == 0 && row.Bonus == 0 && row.Points == 0)
        {
            // No opening transaction will tell the dispatcher: member.enrolled is published here (again harmlessly
            // when the row is retried).
            await events.DispatchMemberAsync(memberId, Storage.Events.OutboxRows.Key(memberId, 1), ct);
            return new BatchRowResult(row.Row, "applied", memberId);
        }

        var hash = Hashing.Sha256Hex(JsonSerializer.Serialize(row, JsonDefaults.Options));
        var outcome = await transactions.ExecuteAsync(memberId, new IdempotencyContext("batch:" + batchId, $"row-{row.Row}", hash), (account, _) =>
            Task.FromResult<Result<LedgerDecision>>(new WriteDecision(
                new LedgerEntryDraft(LedgerEntryType.Opening, "opening.migration", new LedgerChange(row.Points, row.Principal, row.Bonus), row.StoreId, batchId, null, row.Reason),
                balances => new OpeningReceipt(memberId, batchId, row.Row, row.Points, row.Principal, row.Bonus, BalancesDto.From(balances)),
                WriteDecision.None)), ct);
        return Result(row.Row, memberId, outcome);
    }

    /// <summary>Applies a top-up row, booked at <paramref name="storeId"/> through the HQ batch channel.</summary>
    public async Task<BatchRowResult> TopUpAsync(string batchId, TopUpImportRow row, string storeId, string actor, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(row);
        var memberId = row.MemberId is { } id
            ? (await members.ExistsAsync(id, ct) ? id : null)
            : await members.FindByIndexAsync(row.CardNumber is { } card
                ? MemberStore.CardIndexKey(card)
                : MemberStore.PhoneIndexKey(Hashing.KeyedHex(options.Value.PhoneHashKey, row.Phone!)), ct);
        if (memberId is null)
        {
            return new BatchRowResult(row.Row, "failed", null, "member_not_found", "No member with this id, card or phone.");
        }

        var rules = await programme.GetRulesAsync(ct);
        var tree = await org.GetRequiredAsync(ct);
        var hash = Hashing.Sha256Hex(JsonSerializer.Serialize(row, JsonDefaults.Options));
        var outcome = await topUp.ApplyAsync(
            memberId, actor, new TopUpRequest(row.Amount, TopUpChannel.HqBatch, storeId, row.CardNumber), new IdempotencyContext("batch:" + batchId, $"row-{row.Row}", hash), rules, tree, row.Bonus, ct);
        return Result(row.Row, memberId, outcome);
    }

    private static BatchRowResult Result(int row, string memberId, MemberOutcome outcome) => outcome switch
    {
        Completed { Status: < 300 } => new BatchRowResult(row, "applied", memberId),
        Completed done => new BatchRowResult(row, "failed", memberId, ProblemCode(done.Body), "The operation was refused."),
        Refused refused => new BatchRowResult(row, "failed", memberId, refused.Error.Code, refused.Error.Message),
        _ => new BatchRowResult(row, "failed", memberId, "unknown", "The operation ended in an unknown way."),
    };

    private static string ProblemCode(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.TryGetProperty("code", out var code) ? code.GetString() ?? "refused" : "refused";
        }
        catch (JsonException)
        {
            return "refused";
        }
    }
}
