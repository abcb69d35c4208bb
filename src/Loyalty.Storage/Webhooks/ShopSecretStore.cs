using Azure.Data.Tables;
using System.Security.Cryptography;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;

namespace Loyalty.Storage.Webhooks;

/// <summary>A shop's webhook secret as listed (never with the secret).</summary>
public sealed record ShopSecretInfo(string SecretId, DateTimeOffset CreatedAt, string CreatedBy);

/// <summary>
/// Webhook signing secrets per shop (PartitionKey = shop id), at most two active at once so a shop can rotate. The
/// secret is shown once, when created. In Azure the table lives in the app's storage account, reachable only with the
/// app's identity; Key Vault holds the app's own secrets.
/// </summary>
public sealed class ShopSecretStore(TableStore store, TimeProvider time)
{
    /// <summary>Most active secrets per shop.</summary>
    public const int MaxActive = 2;

    /// <summary>Creates a secret; null when the shop already has two.</summary>
    public async Task<(string SecretId, string Secret)?> CreateAsync(string shopId, string actor, CancellationToken cancellationToken = default)
    {
        if ((await ListAsync(shopId, cancellationToken)).Count >= MaxActive)
        {
            return null;
        }

        var secretId = "whs_" + Guid.NewGuid().ToString("N")[..12];
        var secret = "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        await store.ShopSecrets.AddEntityAsync(
            new TableEntity(shopId, secretId) { ["Secret"] = secret, ["CreatedAt"] = time.GetUtcNow(), ["CreatedBy"] = actor },
            cancellationToken);
        return (secretId, secret);
    }

    /// <summary>The shop's secrets, without their values.</summary>
    public async Task<IReadOnlyList<ShopSecretInfo>> ListAsync(string shopId, CancellationToken cancellationToken = default)
    {
        var list = new List<ShopSecretInfo>();
        await foreach (var row in store.ShopSecrets.QueryAsync<TableEntity>(TableFilter.Partition(shopId), cancellationToken: cancellationToken))
        {
            list.Add(new ShopSecretInfo(row.RowKey, row.GetDateTimeOffset("CreatedAt") ?? default, row.GetString("CreatedBy") ?? string.Empty));
        }

        return list;
    }

    /// <summary>The secret values, for verifying a signature.</summary>
    public async Task<IReadOnlyList<string>> ActiveSecretsAsync(string shopId, CancellationToken cancellationToken = default)
    {
        var list = new List<string>();
        await foreach (var row in store.ShopSecrets.QueryAsync<TableEntity>(TableFilter.Partition(shopId), cancellationToken: cancellationToken))
        {
            list.Add(row.Require("Secret"));
        }

        return list;
    }

    /// <summary>Retires a secret.</summary>
    public Task DeleteAsync(string shopId, string secretId, CancellationToken cancellationToken = default) =>
        store.ShopSecrets.DeleteEntityAsync(shopId, secretId, global::Azure.ETag.All, cancellationToken);
}
