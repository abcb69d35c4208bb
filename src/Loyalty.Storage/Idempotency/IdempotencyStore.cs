using Azure.Data.Tables;
using Azure;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;

namespace Loyalty.Storage.Idempotency;

/// <summary>How a claim on an idempotency key turned out.</summary>
public enum ClaimOutcome
{
    /// <summary>First use of the key: go ahead.</summary>
    Started,
    /// <summary>An earlier attempt with the same request stopped half-way and its lease ran out: continue it.</summary>
    Resumed,
    /// <summary>The same request already completed: answer with the stored response.</summary>
    Replay,
    /// <summary>The key was used for a different request.</summary>
    Mismatch,
    /// <summary>The same request is being processed right now.</summary>
    InFlight,
}

/// <summary>A stored idempotency record.</summary>
/// <param name="Scope">Whose keys these are (the principal id).</param>
/// <param name="KeyHash">SHA-256 of the client's key.</param>
/// <param name="RequestHash">SHA-256 of the request it was first used for.</param>
/// <param name="State">Operation state saved while in flight (JSON), so a resumed attempt reuses the same ids.</param>
/// <param name="Status">HTTP status of the final response, once complete.</param>
/// <param name="Body">Final response body, once complete.</param>
/// <param name="ETag">Concurrency token.</param>
/// <param name="Attempt">The mark of the attempt that holds the lease.</param>
public sealed record IdempotencyRecord(string Scope, string KeyHash, string RequestHash, string State, int? Status, string? Body, ETag ETag, string? Attempt = null);

/// <summary>Result of <see cref="IdempotencyStore.ClaimAsync"/>.</summary>
public sealed record IdempotencyClaim(ClaimOutcome Outcome, IdempotencyRecord? Record);

/// <summary>
/// Idempotency records for operations whose effects span partitions (enrolment claims indexes, then writes the member
/// partition). A record is claimed with a lease before any effect, carries the ids the operation chose, and is
/// completed with the response. An attempt that crashed is resumed by the next retry after the lease expires, and
/// every step of such an operation must tolerate being repeated.
/// </summary>
public sealed class IdempotencyStore(TableStore store, TimeProvider time)
{
    /// <summary>Claims <paramref name="key"/> for a request.</summary>
    public async Task<IdempotencyClaim> ClaimAsync(string scope, string key, string requestHash, string initialState, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        var keyHash = Hashing.Sha256Hex(key);
        var now = time.GetUtcNow();

        // This attempt's own mark: when the SDK retries a write whose first try landed but whose answer was lost, the
        // retry meets the row this attempt wrote (409 or 412), and the mark tells it apart from another request's.
        var attempt = Guid.NewGuid().ToString("N");
        var row = new TableEntity(scope, keyHash)
        {
            ["RequestHash"] = requestHash,
            ["State"] = initialState,
            ["LeaseUntil"] = now + lease,
            ["CreatedAt"] = now,
            ["Attempt"] = attempt,
        };
        try
        {
            var etag = (await store.Idempotency.AddEntityAsync(row, cancellationToken)).Headers.ETag ?? default;
            return new(ClaimOutcome.Started, new IdempotencyRecord(scope, keyHash, requestHash, initialState, null, null, etag, attempt));
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            // Someone used this key before: decide from what they left.
        }

        var existing = await store.Idempotency.FindEntityAsync(scope, keyHash, cancellationToken)
            ?? throw new InvalidOperationException("An idempotency record vanished while being claimed.");
        var record = ToRecord(existing);
        if (existing.GetString("Attempt") == attempt)
        {
            return new(ClaimOutcome.Started, record);
        }

        if (record.RequestHash != requestHash)
        {
            return new(ClaimOutcome.Mismatch, record);
        }

        if (record.Status is not null)
        {
            return new(ClaimOutcome.Replay, record);
        }

        if (existing.GetDateTimeOffset("LeaseUntil") > now)
        {
            return new(ClaimOutcome.InFlight, record);
        }

        existing["LeaseUntil"] = now + lease;
        existing["Attempt"] = attempt;
        try
        {
            var etag = (await store.Idempotency.UpdateEntityAsync(existing, existing.ETag, TableUpdateMode.Replace, cancellationToken)).Headers.ETag ?? default;
            return new(ClaimOutcome.Resumed, record with { ETag = etag, Attempt = attempt });
        }
        catch (RequestFailedException ex) when (ex.Status == 412)
        {
            var current = await store.Idempotency.FindEntityAsync(scope, keyHash, cancellationToken);
            return current is not null && current.GetString("Attempt") == attempt
                ? new(ClaimOutcome.Resumed, ToRecord(current))
                : new(ClaimOutcome.InFlight, record);
        }
    }

    /// <summary>Saves new in-flight state (e.g. a regenerated card number); throws 412 if the lease was lost.</summary>
    public async Task<IdempotencyRecord> SaveStateAsync(IdempotencyRecord record, string state, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        var row = await store.Idempotency.FindEntityAsync(record.Scope, record.KeyHash, cancellationToken)
            ?? throw new InvalidOperationException("The idempotency record is gone.");
        row["State"] = state;
        try
        {
            var etag = (await store.Idempotency.UpdateEntityAsync(row, record.ETag, TableUpdateMode.Replace, cancellationToken)).Headers.ETag ?? default;
            return record with { State = state, ETag = etag };
        }
        catch (RequestFailedException ex) when (ex.Status == 412)
        {
            // Either the lease went to another attempt, or this write landed and only the SDK's retry of it failed.
            var current = await store.Idempotency.FindEntityAsync(record.Scope, record.KeyHash, cancellationToken);
            if (current is not null && record.Attempt is not null && current.GetString("Attempt") == record.Attempt && current.GetString("State") == state)
            {
                return record with { State = state, ETag = current.ETag };
            }

            throw;
        }
    }

    /// <summary>Stores the final response; later claims replay it.</summary>
    public async Task CompleteAsync(IdempotencyRecord record, int status, string body, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        var row = new TableEntity(record.Scope, record.KeyHash)
        {
            ["RequestHash"] = record.RequestHash,
            ["State"] = record.State,
            ["Status"] = status,
            ["Body"] = body,
            ["CreatedAt"] = time.GetUtcNow(),
        };
        // Unconditional: the outcome is the same whichever attempt finishes, and it must not be lost to a lease race.
        await store.Idempotency.UpdateEntityAsync(row, ETag.All, TableUpdateMode.Replace, cancellationToken);
    }

    /// <summary>Deletes completed records created before <paramref name="cutoff"/>; returns how many.</summary>
    public async Task<int> PurgeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default)
    {
        var filter = $"CreatedAt lt datetime'{cutoff.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}'";
        var deleted = 0;
        await foreach (var row in store.Idempotency.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            if (row.GetInt32("Status") is null && row.GetDateTimeOffset("LeaseUntil") > cutoff)
            {
                continue;
            }

            await store.Idempotency.DeleteEntityAsync(row.PartitionKey, row.RowKey, row.ETag, cancellationToken);
            deleted++;
        }

        return deleted;
    }

    private static IdempotencyRecord ToRecord(TableEntity row) => new(
        row.PartitionKey,
        row.RowKey,
        row.Require("RequestHash"),
        row.GetString("State") ?? "{}",
        row.GetInt32("Status"),
        row.GetString("Body"),
        row.ETag,
        row.GetString("Attempt"));
}
