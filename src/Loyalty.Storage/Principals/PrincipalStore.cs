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
/// brute-forced); the key itself is shown once, at creation. Lookups are cached for a short time.
/// </summary>
public sealed class PrincipalStore(TableStore store, TimeProvider time)
{
    private const string Partition = "key";
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(30);
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
        var principal = row is null || row.GetBoolean("Revoked") == true
            ? null
            : new Principal(row.Require("PrincipalId"), Enum.Parse<Role>(row.Require("Role")), row.Require("ScopeId"), row.GetString("Name"));
        _cache[hash] = (principal, now + CacheFor);
        return principal;
    }

    /// <summary>Stores a principal under the hash of <paramref name="apiKey"/>; an existing key is left as it is.</summary>
    /// <returns>True when created, false when the key already existed.</returns>
    public async Task<bool> CreateAsync(Principal principal, string apiKey, string createdBy, CancellationToken cancellationToken = default)
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

    /// <summary>All principals (without keys), for administration.</summary>
    public async Task<IReadOnlyList<Principal>> ListAsync(CancellationToken cancellationToken = default)
    {
        var result = new List<Principal>();
        await foreach (var row in store.Principals.QueryAsync<TableEntity>(TableFilter.Partition(Partition), cancellationToken: cancellationToken))
        {
            if (row.GetBoolean("Revoked") != true)
            {
                result.Add(new Principal(row.Require("PrincipalId"), Enum.Parse<Role>(row.Require("Role")), row.Require("ScopeId"), row.GetString("Name")));
            }
        }

        return result;
    }

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
