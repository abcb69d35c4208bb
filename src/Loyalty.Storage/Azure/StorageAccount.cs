using Azure.Core;
using Azure.Identity;

namespace Loyalty.Storage.Azure;

/// <summary>
/// Where the app's tables and queues live and how to authenticate: Shared Key (Azurite, connection strings) or a
/// <see cref="TokenCredential"/> (managed identity in Azure).
/// </summary>
public sealed class StorageAccount
{
    /// <summary>Azurite's well-known development account name.</summary>
    public const string DevelopmentAccountName = "devstoreaccount1";

    /// <summary>Azurite's well-known development key (public, in every Azurite document).</summary>
    public const string DevelopmentAccountKey =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private StorageAccount(Uri tableEndpoint, Uri queueEndpoint, string? accountName, byte[]? accountKey, TokenCredential? credential)
    {
        TableEndpoint = tableEndpoint;
        QueueEndpoint = queueEndpoint;
        AccountName = accountName;
        AccountKey = accountKey;
        Credential = credential;
    }

    /// <summary>Table service endpoint, e.g. <c>http://127.0.0.1:10002/devstoreaccount1</c>.</summary>
    public Uri TableEndpoint { get; }

    /// <summary>Queue service endpoint.</summary>
    public Uri QueueEndpoint { get; }

    /// <summary>Account name, when using Shared Key.</summary>
    public string? AccountName { get; }

    /// <summary>Decoded account key, when using Shared Key.</summary>
    internal byte[]? AccountKey { get; }

    /// <summary>Token credential, when using Entra ID (managed identity).</summary>
    public TokenCredential? Credential { get; }

    /// <summary>True when requests are signed with the account key.</summary>
    public bool UsesSharedKey => AccountKey is not null;

    /// <summary>Accounts using a token credential.</summary>
    public static StorageAccount WithCredential(Uri tableEndpoint, Uri queueEndpoint, TokenCredential credential)
    {
        ArgumentNullException.ThrowIfNull(tableEndpoint);
        ArgumentNullException.ThrowIfNull(queueEndpoint);
        ArgumentNullException.ThrowIfNull(credential);
        return new StorageAccount(Trim(tableEndpoint), Trim(queueEndpoint), null, null, credential);
    }

    /// <summary>Azurite on the given host and ports.</summary>
    public static StorageAccount Development(string host = "127.0.0.1", int tablePort = 10002, int queuePort = 10001) =>
        FromConnectionString(
            $"DefaultEndpointsProtocol=http;AccountName={DevelopmentAccountName};AccountKey={DevelopmentAccountKey};" +
            $"TableEndpoint=http://{host}:{tablePort}/{DevelopmentAccountName};QueueEndpoint=http://{host}:{queuePort}/{DevelopmentAccountName};");

    /// <summary>
    /// Parses an Azure Storage connection string: <c>UseDevelopmentStorage=true</c>, or account name and key with
    /// either explicit endpoints or protocol and endpoint suffix.
    /// </summary>
    public static StorageAccount FromConnectionString(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var parts = connectionString
            .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2))
            .Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1], StringComparer.OrdinalIgnoreCase);

        if (parts.TryGetValue("UseDevelopmentStorage", out var dev) && bool.TryParse(dev, out var isDev) && isDev)
        {
            return Development();
        }

        if (!parts.TryGetValue("AccountName", out var name) || !parts.TryGetValue("AccountKey", out var key))
        {
            throw new FormatException("A storage connection string needs AccountName and AccountKey (or UseDevelopmentStorage=true).");
        }

        var protocol = parts.GetValueOrDefault("DefaultEndpointsProtocol", "https");
        var suffix = parts.GetValueOrDefault("EndpointSuffix", "core.windows.net");
        var table = parts.TryGetValue("TableEndpoint", out var t) ? new Uri(t) : new Uri($"{protocol}://{name}.table.{suffix}");
        var queue = parts.TryGetValue("QueueEndpoint", out var q) ? new Uri(q) : new Uri($"{protocol}://{name}.queue.{suffix}");
        return new StorageAccount(Trim(table), Trim(queue), name, Convert.FromBase64String(key), null);
    }

    /// <summary>
    /// Builds the account from Functions-style settings under a connection name: either the connection string
    /// itself, or identity-based <c>__tableServiceUri</c> / <c>__queueServiceUri</c> with an optional
    /// <c>__clientId</c> for a user-assigned managed identity.
    /// </summary>
    /// <param name="setting">Reads one app setting by its environment name.</param>
    /// <param name="connectionName">The connection's setting name, e.g. <c>LoyaltyStorage</c>.</param>
    /// <param name="credentialFactory">Builds the credential from the client id (tests pass a fake); managed identity by default.</param>
    public static StorageAccount FromSettings(Func<string, string?> setting, string connectionName, Func<string?, TokenCredential>? credentialFactory = null)
    {
        ArgumentNullException.ThrowIfNull(setting);
        var connectionString = setting(connectionName);
        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            return FromConnectionString(connectionString);
        }

        var tableUri = setting($"{connectionName}__tableServiceUri");
        var queueUri = setting($"{connectionName}__queueServiceUri");
        if (string.IsNullOrWhiteSpace(tableUri) || string.IsNullOrWhiteSpace(queueUri))
        {
            throw new InvalidOperationException(
                $"Storage setting '{connectionName}' is missing: set a connection string, or both " +
                $"'{connectionName}__tableServiceUri' and '{connectionName}__queueServiceUri' for managed identity.");
        }

        var clientId = setting($"{connectionName}__clientId");
        var credential = credentialFactory?.Invoke(clientId) ?? (string.IsNullOrWhiteSpace(clientId)
            ? new DefaultAzureCredential()
            : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId)));
        return WithCredential(new Uri(tableUri), new Uri(queueUri), credential);
    }

    private static Uri Trim(Uri uri) => new(uri.ToString().TrimEnd('/'));
}
