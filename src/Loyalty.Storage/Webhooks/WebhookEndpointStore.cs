using System.Security.Cryptography;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Loyalty.Storage.Config;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;

namespace Loyalty.Storage.Webhooks;

/// <summary>A signing secret of an endpoint (<c>whsec_</c> and base64 of 32 random bytes, as Standard Webhooks has it).</summary>
public sealed record EndpointSecret(string SecretId, string Secret, DateTimeOffset CreatedAt);

/// <summary>A registered webhook endpoint: where events go, which types, and its one or two live secrets.</summary>
public sealed record WebhookEndpoint(
    string EndpointId,
    string Url,
    IReadOnlyList<string> EventTypes,
    string? Description,
    IReadOnlyList<EndpointSecret> Secrets,
    DateTimeOffset CreatedAt,
    string CreatedBy,
    ETag ETag)
{
    /// <summary>Whether events of <paramref name="type"/> go to this endpoint (<c>*</c> subscribes to all).</summary>
    public bool Wants(string type) => EventTypes.Contains("*") || EventTypes.Contains(type);
}

/// <summary>
/// The chain's webhook endpoints (one partition of the WebhookEndpoints table; a chain has a handful). A secret is shown
/// once, when made; rotation adds a second live secret (deliveries are signed with both) and deletes the old one.
/// </summary>
public sealed class WebhookEndpointStore(TableStore store, TimeProvider time)
{
    /// <summary>Live secrets per endpoint at most.</summary>
    public const int MaxSecrets = 2;

    /// <summary>Endpoints per chain at most.</summary>
    public const int MaxEndpoints = 50;

    private const string Partition = "endpoints";
    private TableClient Table => store.Table(store.Names.WebhookEndpoints);

    /// <summary>A new secret in the Standard Webhooks format.</summary>
    public EndpointSecret NewSecret() =>
        new("whs_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)), "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)), time.GetUtcNow());

    /// <summary>Registers an endpoint with its first secret.</summary>
    public async Task<WebhookEndpoint> CreateAsync(string url, IReadOnlyList<string> eventTypes, string? description, string actor, CancellationToken cancellationToken = default)
    {
        var endpoint = new WebhookEndpoint("we_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)), url, eventTypes, description, [NewSecret()], time.GetUtcNow(), actor, default);
        var response = await Table.AddEntityAsync(ToRow(endpoint), cancellationToken);
        return endpoint with { ETag = response.Headers.ETag ?? default };
    }

    /// <summary>Every endpoint.</summary>
    public async Task<IReadOnlyList<WebhookEndpoint>> ListAsync(CancellationToken cancellationToken = default)
    {
        var list = new List<WebhookEndpoint>();
        await foreach (var row in Table.QueryAsync<TableEntity>(TableFilter.Partition(Partition), cancellationToken: cancellationToken))
        {
            list.Add(FromRow(row));
        }

        return list;
    }

    /// <summary>One endpoint; null when unknown.</summary>
    public async Task<WebhookEndpoint?> GetAsync(string endpointId, CancellationToken cancellationToken = default) =>
        await Table.FindEntityAsync(Partition, endpointId, cancellationToken) is { } row ? FromRow(row) : null;

    /// <summary>Replaces an endpoint if it has not changed since read (412 otherwise).</summary>
    public async Task UpdateAsync(WebhookEndpoint endpoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        await Table.UpdateEntityAsync(ToRow(endpoint), endpoint.ETag, TableUpdateMode.Replace, cancellationToken);
    }

    /// <summary>Removes an endpoint; its deliveries still waiting are parked when their turn comes.</summary>
    public async Task DeleteAsync(string endpointId, CancellationToken cancellationToken = default)
    {
        try
        {
            await Table.DeleteEntityAsync(Partition, endpointId, ETag.All, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // Already gone.
        }
    }

    private static TableEntity ToRow(WebhookEndpoint e) => new(Partition, e.EndpointId)
    {
        ["Url"] = e.Url,
        ["EventTypes"] = string.Join(',', e.EventTypes),
        ["Description"] = e.Description,
        ["Secrets"] = JsonSerializer.Serialize(e.Secrets, ConfigJson.Options),
        ["CreatedAt"] = e.CreatedAt,
        ["CreatedBy"] = e.CreatedBy,
    };

    private static WebhookEndpoint FromRow(TableEntity row) => new(
        row.RowKey,
        row.Require("Url"),
        row.Require("EventTypes").Split(',', StringSplitOptions.RemoveEmptyEntries),
        row.GetString("Description"),
        JsonSerializer.Deserialize<List<EndpointSecret>>(row.Require("Secrets"), ConfigJson.Options) ?? [],
        row.GetDateTimeOffset("CreatedAt") ?? default,
        row.GetString("CreatedBy") ?? string.Empty,
        row.ETag);
}
