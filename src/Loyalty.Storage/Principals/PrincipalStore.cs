using Azure.Data.Tables;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using Azure;
using Loyalty.Domain.Auth;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;

namespace Loyalty.Storage.Principals;

/// <summary>
/// API principals. Only a SHA-256 of each key is stored (keys are 256 random bits, so a plain hash cannot be
/// brute-forced); the key itself is shown once, at creation. A key may carry an expiry, and HQ can revoke it. Lookups
/// are cached for <see cref="CacheFor"/>: a revoked or expired key is refused at once by the instance that revoked it
/// and within that time by every other instance.
/// </summary>
public sealed class PrincipalStore(TableStore store, TimeProvider time)
{
    private const string Partition = "key";
    /// <summary>How long a key lookup is cached by an instance.</summary>
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(30);
    private readonly ConcurrentDictionary<string, (Principal? Principal, DateTimeOffset Until)> _cache = new();

    /// <summary>Generates a new API key: <c>lk_</c> and 43 base64url characters.</summary>
    public static string NewApiKey() => "lk_" + Base64Url(RandomNumberGenerator.GetBytes(32));

    /// <summary>Resolves an API key to its principal; null when unknown.</summary>
    public async Task<Principal?> FindByKeyAsync(string apiKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(apiKey);
        var hash = Hashing.Sha256Hex(apiKey);
        var now = time.GetUtcNow();
        if (_cache.TryGetValue(hash, out var cached) && cached.Until > now)
        {
            return cached.Principal;
        }

        var row = await store.Principals.FindEntityAsync(Partition, hash, cancellationToken);
        var principal = row is null || !IsLive(row, now) ? null : ToPrincipal(row);
        var until = now + CacheFor;
        if (row?.GetDateTimeOffset("ExpiresAt") is { } expires && expires < until)
        {
            until = expires;
        }

        _cache[hash] = (principal, until);
        return principal;
    }

    /// <summary>Stores a principal under the hash of <paramref name="apiKey"/>; an existing key is left as it is.</summary>
    /// <returns>True when created, false when the key already existed.</returns>
    public async Task<bool> CreateAsync(Principal principal, string apiKey, string createdBy, DateTimeOffset? expiresAt = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(principal);
        ArgumentNullException.ThrowIfNull(apiKey);
        var row = new TableEntity(Partition, Hashing.Sha256Hex(apiKey))
        {
            ["PrincipalId"] = principal.Id,
            ["Role"] = principal.Role.ToString(),
            ["ScopeId"] = principal.ScopeId,
            ["CreatedBy"] = createdBy,
            ["CreatedAt"] = time.GetUtcNow(),
        };
        if (principal.Name is not null)
        {
            row["Name"] = principal.Name;
        }

        if (expiresAt is not null)
        {
            row["ExpiresAt"] = expiresAt;
        }

        try
        {
            await store.Principals.AddEntityAsync(row, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return false;
        }
    }

    /// <summary>The live principals (neither revoked nor expired; without keys), for administration.</summary>
    public async Task<IReadOnlyList<(Principal Principal, DateTimeOffset? ExpiresAt)>> ListAsync(CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var result = new List<(Principal, DateTimeOffset?)>();
        await foreach (var row in store.Principals.QueryAsync<TableEntity>(TableFilter.Partition(Partition), cancellationToken: cancellationToken))
        {
            if (IsLive(row, now))
            {
                result.Add((ToPrincipal(row), row.GetDateTimeOffset("ExpiresAt")));
            }
        }

        return result;
    }

    /// <summary>
    /// Revokes every live key of <paramref name="principalId"/> except the one whose hash is <paramref name="keepKeyHash"/>;
    /// returns how many were revoked. This instance forgets its cached lookups at once.
    /// </summary>
    public async Task<int> RevokeAsync(string principalId, string revokedBy, string? keepKeyHash = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(principalId);
        var now = time.GetUtcNow();
        var revoked = 0;
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {Partition} and PrincipalId eq {principalId}");
        await foreach (var row in store.Principals.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            if (row.RowKey == keepKeyHash || !IsLive(row, now))
            {
                continue;
            }

            row["Revoked"] = true;
            row["RevokedAt"] = now;
            row["RevokedBy"] = revokedBy;
            try
            {
                await store.Principals.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, cancellationToken);
                revoked++;
            }
            catch (RequestFailedException ex) when (ex.Status == 412)
            {
                // Revoked (or changed) by someone else at the same moment.
            }
        }

        _cache.Clear();
        return revoked;
    }

    private static bool IsLive(TableEntity row, DateTimeOffset now) =>
        row.GetBoolean("Revoked") != true && (row.GetDateTimeOffset("ExpiresAt") is not { } expires || expires > now);

    private static Principal ToPrincipal(TableEntity row) =>
        new(row.Require("PrincipalId"), Enum.Parse<Role>(row.Require("Role")), row.Require("ScopeId"), row.GetString("Name"));

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
