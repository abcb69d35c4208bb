using Azure.Data.Tables;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Azure;
using Loyalty.Domain.Common;
using Loyalty.Domain.Ledger;
using Loyalty.Storage.Config;
using Loyalty.Storage.Events;
using Loyalty.Storage.Members;
using Loyalty.Storage.Reports;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;

namespace Loyalty.Storage.Ledger;

/// <summary>Who asks, under which idempotency key, for which exact request.</summary>
public sealed record IdempotencyContext(string Scope, string Key, string RequestHash);

/// <summary>How a member operation ended.</summary>
public abstract record MemberOutcome;

/// <summary>Done now, or earlier (<paramref name="Replayed"/>): the stored response.</summary>
public sealed record Completed(int Status, string Body, bool Replayed) : MemberOutcome;

/// <summary>Refused; nothing was written.</summary>
public sealed record Refused(DomainError Error) : MemberOutcome;

/// <summary>
/// Runs a value-moving member operation exactly once. Each attempt reads the account row and the idempotency row,
/// asks the caller to decide, and commits everything in one entity-group transaction: the account row with If-Match
/// on the ETag read, the new ledger row, the idempotency row carrying the response, and the operation's own rows.
/// A 412 or 409 means another writer got there first: read again and decide again. A failure whose outcome is
/// unknown (timeout after commit) surfaces to the client, whose retry with the same key finds the idempotency row
/// and replays. Within one instance, operations on the same member are serialised to avoid needless 412s.
/// </summary>
public sealed class MemberTransactions(TableStore store, TimeProvider time)
{
    private const int MaxAttempts = 10;
    private static readonly SemaphoreSlim[] Stripes = [.. Enumerable.Range(0, 256).Select(_ => new SemaphoreSlim(1, 1))];
    private readonly ConcurrentDictionary<string, byte> _inFlight = new(StringComparer.Ordinal);

    /// <summary>The chain's time zone: points are batched by the month they were earned in, in this zone.</summary>
    public TimeZoneInfo Zone { get; init; } = TimeZoneInfo.Utc;

    /// <summary>Partition of the points schedule for an earning month.</summary>
    public static string PointsMonthPartition(DateOnly month) => "points-" + PointBatches.Key(month);

    /// <summary>Today in the chain's time zone.</summary>
    public DateOnly Today => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(time.GetUtcNow(), Zone).DateTime);

    /// <summary>The first day of the current month in the chain's time zone.</summary>
    public DateOnly CurrentMonth
    {
        get
        {
            var today = Today;
            return new(today.Year, today.Month, 1);
        }
    }

    /// <summary>Row key of an idempotency record in the member partition.</summary>
    public static string IdempotencyRowKey(IdempotencyContext idempotency)
    {
        ArgumentNullException.ThrowIfNull(idempotency);
        return MemberRows.IdempotencyPrefix + Hashing.Sha256Hex(idempotency.Scope + "\n" + idempotency.Key);
    }

    /// <summary>Executes one operation for <paramref name="memberId"/>.</summary>
    public async Task<MemberOutcome> ExecuteAsync(
        string memberId,
        IdempotencyContext? idempotency,
        Func<AccountState, CancellationToken, Task<Result<LedgerDecision>>> decide,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(decide);
        var flightKey = idempotency is null ? null : memberId + "\n" + IdempotencyRowKey(idempotency);
        if (flightKey is not null && !_inFlight.TryAdd(flightKey, 0))
        {
            return new Refused(new DomainError("idempotency_in_flight", "A request with this Idempotency-Key is still being processed; retry shortly.", ErrorKind.Conflict));
        }

        var stripe = Stripes[(uint)StringComparer.Ordinal.GetHashCode(memberId) % Stripes.Length];
        await stripe.WaitAsync(cancellationToken);
        try
        {
            return await RunAsync(memberId, idempotency, decide, cancellationToken);
        }
        finally
        {
            stripe.Release();
            if (flightKey is not null)
            {
                _inFlight.TryRemove(flightKey, out _);
            }
        }
    }

    private async Task<MemberOutcome> RunAsync(
        string memberId,
        IdempotencyContext? idempotency,
        Func<AccountState, CancellationToken, Task<Result<LedgerDecision>>> decide,
        CancellationToken cancellationToken)
    {
        var idemRowKey = idempotency is null ? null : IdempotencyRowKey(idempotency);
        for (var attempt = 1; ; attempt++)
        {
            // The first attempt does not read the idempotency row: its insert in the transaction fails with 409 if a
            // repeated request left one, and the next attempt reads it. That keeps a first request at one read.
            var readIdempotency = idemRowKey is not null && attempt > 1;
            var accountTask = store.Members.FindEntityAsync(memberId, MemberRows.AccountKey(memberId), cancellationToken);
            var idemTask = readIdempotency ? store.Members.FindEntityAsync(memberId, idemRowKey!, cancellationToken) : Task.FromResult<TableEntity?>(null);
            var (accountRow, idemRow) = (await accountTask, await idemTask);
            if (accountRow is null)
            {
                return new Refused(new DomainError("member_not_found", "No such member.", ErrorKind.NotFound));
            }

            if (Replay(idemRow, idempotency) is { } replay)
            {
                return replay;
            }

            // A refusal must not hide an earlier success of the same request (points or stored value since spent by
            // it): before refusing, look at the idempotency row that the optimistic first attempt skipped.
            async Task<MemberOutcome> RefuseAsync(DomainError error) =>
                idemRowKey is not null && !readIdempotency &&
                Replay(await store.Members.FindEntityAsync(memberId, idemRowKey, cancellationToken), idempotency) is { } earlier
                    ? earlier
                    : new Refused(error);

            var account = AccountState.From(accountRow) with { Attempt = attempt };
            var decided = await decide(account, cancellationToken);
            if (!decided.IsSuccess)
            {
                return await RefuseAsync(decided.Error);
            }

            if (decided.Value is ExistingDecision existing)
            {
                return new Completed(existing.Status, existing.Body, Replayed: true);
            }

            var write = (WriteDecision)decided.Value;
            var balances = account.Balances;
            var nextSeq = account.NextSeq;
            var actions = new List<TableTransactionAction>(8);
            var drafts = write.Entry is { } first ? [first, .. write.MoreEntries] : write.MoreEntries;
            var month = CurrentMonth;
            var batches = PointBatches.Parse(account.PointBatches, account.Balances.Points, month);
            var hadMonth = batches.Has(month);
            var lots = StoredValueLots.Parse(account.StoredValueLots, account.Balances.Principal, account.Balances.Bonus);
            var facts = new Dictionary<string, ReportCounters>(StringComparer.Ordinal);
            var written = new List<(LedgerEntry, LedgerChange, Balances)>(drafts.Count);
            foreach (var draft in drafts)
            {
                FactsAt(facts, draft.StoreId).AddEntry(draft.Type, draft.Reason, draft.Change);
                var applied = balances.Apply(draft.Change);
                if (!applied.IsSuccess)
                {
                    return await RefuseAsync(applied.Error);
                }

                batches = batches.Apply(balances.Points, draft.Change.PointsAdded, draft.Change.PointsTaken, month);
                lots = lots.Apply(draft.Change.Principal, draft.Change.Bonus);
                balances = applied.Value;
                var entry = new LedgerEntry(
                    nextSeq++, draft.Type, draft.Reason, draft.Change.Points, draft.Change.Principal, draft.Change.Bonus,
                    draft.StoreId, idempotency?.Scope ?? "system", idempotency?.Key ?? string.Empty, time.GetUtcNow(), draft.Reference, draft.RuleVersion, draft.Note);
                actions.Add(new(TableTransactionActionType.Add, LedgerRows.ToRow(memberId, entry, balances)));
                written.Add((entry, draft.Change, balances));
            }

            if (!hadMonth && batches.Has(month))
            {
                // First points of this month for this member: tell the expiry job where to look (before the commit, so
                // a batch is never without its schedule row; a row whose batch never appeared is skipped by the job).
                await store.Schedules.UpsertEntityAsync(new TableEntity(PointsMonthPartition(month), memberId), TableUpdateMode.Replace, cancellationToken: cancellationToken);
            }

            var body = JsonSerializer.Serialize(write.Respond(balances), ConfigJson.Options);
            var rows = write.Rows(body);

            // The transaction's integration events: one outbox row beside the change, numbered in the member's stream.
            var events = TransactionEvents.Derive(account, written, write, rows, body);
            var outboxRow = events.Count == 0 ? null : OutboxRows.ToRow(memberId, memberId, account.NextEvent, events, time.GetUtcNow(), account.LastOutbox);
            var newAccount = new TableEntity(memberId, MemberRows.AccountKey(memberId))
            {
                ["Points"] = balances.Points,
                ["Principal"] = balances.Principal,
                ["Bonus"] = balances.Bonus,
                ["Tier"] = write.Tier ?? account.Tier,
                ["NextSeq"] = nextSeq,
                ["NextEvent"] = account.NextEvent + events.Count,
                ["LastOutbox"] = outboxRow?.RowKey ?? account.LastOutbox,
                ["ActiveCards"] = account.ActiveCards + write.ActiveCardsDelta,
                ["TierProgress"] = write.TierProgress ?? account.TierProgress,
                ["PointBatches"] = batches.ToJson(),
                ["AuthorityUsage"] = write.AuthorityUsage ?? account.AuthorityUsage,
                ["StoredValueLots"] = (write.StoredValueLots is { } decidedLots ? StoredValueLots.Parse(decidedLots, balances.Principal, balances.Bonus) : lots).ToJson(),
                ["TierFloor"] = write.TierFloor is { } floor ? (floor.Length == 0 ? null : floor) : account.TierFloor,
                ["TierSince"] = write.Tier is { } tier && tier != account.Tier
                    ? Today.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)
                    : account.TierSince,
                ["UpgradeGifts"] = write.UpgradeGifts ?? account.UpgradeGifts,
                ["Stats"] = write.Stats ?? account.Stats,
                ["AutoTags"] = write.AutoTags ?? account.AutoTags,
                ["ManualTags"] = write.ManualTags ?? account.ManualTags,
                ["PaidTier"] = write.PaidMembership?.Tier ?? account.PaidTier,
                ["PaidUntil"] = write.PaidMembership?.Until ?? account.PaidUntil,
            };
            actions.Insert(0, new(TableTransactionActionType.UpdateReplace, newAccount, account.ETag));
            if (idemRowKey is not null)
            {
                actions.Add(new(TableTransactionActionType.Add, new TableEntity(memberId, idemRowKey)
                {
                    ["RequestHash"] = idempotency!.RequestHash,
                    ["Status"] = write.Status,
                    ["Body"] = body,
                    ["At"] = time.GetUtcNow(),
                }));
            }

            actions.AddRange(rows);
            if (outboxRow is not null)
            {
                actions.Add(new(TableTransactionActionType.Add, outboxRow));
            }
            var reportStore = write.ReportStoreId ?? (drafts.Count > 0 ? drafts[0].StoreId : ReportCounters.ChainLevel);
            if (write.Report is { IsEmpty: false } extra)
            {
                FactsAt(facts, reportStore).Add(extra.Values);
            }

            ReportCounters.AddCoupons(FactsAt(facts, reportStore), actions);

            try
            {
                await AddFactsAsync(memberId, facts, actions, outboxRow?.RowKey, cancellationToken);
                await store.Members.SubmitTransactionAsync(actions, cancellationToken);
                return new Completed(write.Status, body, Replayed: false);
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412 && attempt < MaxAttempts)
            {
                // Someone else wrote this partition since we read it. Read again and decide again.
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 5 * attempt)), cancellationToken);
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412)
            {
                return new Refused(new DomainError("contention", "The account is busy; retry with the same Idempotency-Key.", ErrorKind.Conflict));
            }
        }
    }

    private static ReportCounters FactsAt(Dictionary<string, ReportCounters> facts, string storeId)
    {
        if (!facts.TryGetValue(storeId, out var counters))
        {
            facts[storeId] = counters = new ReportCounters();
        }

        return counters;
    }

    /// <summary>
    /// Adds a fact row per store to the transaction and tells the report projector about it first. The message goes
    /// out before the commit, so a crash between the two cannot lose a committed fact; a message whose transaction did
    /// not commit finds no row and is dropped by the projector after a grace period. The first fact's message also
    /// names the transaction's outbox row (<paramref name="outboxRowKey"/>), so the sale path tells the event
    /// dispatcher with the message it sends anyway; a transaction without facts sends its own to member-events.
    /// </summary>
    private async Task AddFactsAsync(string memberId, Dictionary<string, ReportCounters> facts, List<TableTransactionAction> actions, string? outboxRowKey, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        foreach (var (storeId, counters) in facts)
        {
            if (counters.IsEmpty)
            {
                continue;
            }

            var row = ReportFactRows.ToRow(memberId, Guid.NewGuid().ToString("N"), storeId, Today, counters, now);
            await store.Queue(store.Names.ReportFactsQueue).SendMessageAsync(
                JsonSerializer.Serialize(new ReportFactMessage(memberId, row.RowKey, now) { Events = outboxRowKey }, ConfigJson.Options), FactDelay, cancellationToken: cancellationToken);
            outboxRowKey = null;
            actions.Add(new(TableTransactionActionType.Add, row));
        }

        if (outboxRowKey is not null)
        {
            await store.Queue(store.Names.MemberEventsQueue).SendMessageAsync(
                JsonSerializer.Serialize(new MemberEventsMessage(memberId, outboxRowKey, now), ConfigJson.Options), FactDelay, cancellationToken: cancellationToken);
        }
    }

    /// <summary>How long a fact message stays invisible: long enough for its transaction to have committed, usually.</summary>
    public static readonly TimeSpan FactDelay = TimeSpan.FromSeconds(1);

    private static MemberOutcome? Replay(TableEntity? idemRow, IdempotencyContext? idempotency) => idemRow is null
        ? null
        : idemRow.GetString("RequestHash") == idempotency!.RequestHash
            ? new Completed(idemRow.GetInt32("Status") ?? 200, idemRow.Require("Body"), Replayed: true)
            : new Refused(new DomainError("idempotency_key_reused", "This Idempotency-Key was already used for a different request.", ErrorKind.Unprocessable));

    /// <summary>Formats an audit row of the member partition (inside the same transaction as the change it records).</summary>
    public TableEntity AuditRow(string memberId, string actor, string action, string target, string? before, string? after) =>
        new(memberId, MemberRows.AuditPrefix + (DateTime.MaxValue.Ticks - time.GetUtcNow().UtcTicks).ToString("D19", CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..6])
        {
            ["Actor"] = actor,
            ["Action"] = action,
            ["Target"] = target,
            ["Before"] = before,
            ["After"] = after,
            ["At"] = time.GetUtcNow(),
        };
}
