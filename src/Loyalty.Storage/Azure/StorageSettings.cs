using Azure.Core;
using Azure.Identity;

namespace Loyalty.Storage.Azure;

/// <summary>
/// Where the app's tables and queues live, read from Functions-style settings under one connection name: either a
/// connection string (Azurite, local runs) or identity-based <c>__tableServiceUri</c> and <c>__queueServiceUri</c>
/// with an optional <c>__clientId</c> for a user-assigned managed identity.
/// </summary>
public sealed class StorageSettings
{
    private StorageSettings(string? connectionString, Uri? tableServiceUri, Uri? queueServiceUri, TokenCredential? credential, Uri? blobServiceUri = null)
    {
        ConnectionString = connectionString;
        TableServiceUri = tableServiceUri;
        QueueServiceUri = queueServiceUri;
        Credential = credential;
        BlobServiceUri = blobServiceUri ?? (tableServiceUri is null ? null : BlobBeside(tableServiceUri));
    }

    /// <summary>The Blob service URI (batch files), when the connection is identity-based: <c>__blobServiceUri</c>, else the Table service's account with <c>blob</c>.</summary>
    public Uri? BlobServiceUri { get; }

    /// <summary>The Blob endpoint of the account whose Table endpoint is <paramref name="tables"/> (https://acct.table.core.windows.net to https://acct.blob.core.windows.net).</summary>
    private static Uri BlobBeside(Uri tables)
    {
        var host = tables.Host.Split('.');
        if (host.Length > 2 && host[1] == "table")
        {
            host[1] = "blob";
        }

        return new UriBuilder(tables) { Host = string.Join('.', host) }.Uri;
    }

    /// <summary>The connection string, when the connection uses one.</summary>
    public string? ConnectionString { get; }

    /// <summary>The Table service URI, when the connection is identity-based.</summary>
    public Uri? TableServiceUri { get; }

    /// <summary>The Queue service URI, when the connection is identity-based.</summary>
    public Uri? QueueServiceUri { get; }

    /// <summary>The token credential (managed identity), when the connection is identity-based.</summary>
    public TokenCredential? Credential { get; }

    /// <summary>A connection by connection string.</summary>
    public static StorageSettings FromConnectionString(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return new StorageSettings(connectionString, null, null, null);
    }

    /// <summary>An identity-based connection.</summary>
    public static StorageSettings WithCredential(Uri tableServiceUri, Uri queueServiceUri, TokenCredential credential, Uri? blobServiceUri = null)
    {
        ArgumentNullException.ThrowIfNull(tableServiceUri);
        ArgumentNullException.ThrowIfNull(queueServiceUri);
        ArgumentNullException.ThrowIfNull(credential);
        return new StorageSettings(null, tableServiceUri, queueServiceUri, credential, blobServiceUri);
    }

    /// <summary>What is wrong with a connection string, in words; null when nothing obvious is.</summary>
    private static string? Problem(string connectionString)
    {
        var parts = connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2))
            .ToDictionary(p => p[0], p => p.Length == 2 ? p[1] : string.Empty, StringComparer.OrdinalIgnoreCase);
        if (parts.TryGetValue("UseDevelopmentStorage", out var development) && development.Equals("true", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (!parts.ContainsKey("AccountName") && !parts.ContainsKey("SharedAccessSignature"))
        {
            return "it names no AccountName (or SharedAccessSignature)";
        }

        return parts.TryGetValue("AccountKey", out var key) && (key.Length == 0 || !Convert.TryFromBase64String(key, new byte[key.Length], out _))
            ? "its AccountKey is not base64"
            : null;
    }

    /// <summary>Reads the connection named <paramref name="connectionName"/>.</summary>
    /// <param name="setting">Reads one app setting by its environment name.</param>
    /// <param name="connectionName">The connection's setting name, e.g. <c>LoyaltyStorage</c>.</param>
    /// <param name="credentialFactory">Builds the credential from the client id (tests pass a fake); managed identity by default.</param>
    public static StorageSettings FromSettings(Func<string, string?> setting, string connectionName, Func<string?, TokenCredential>? credentialFactory = null)
    {
        ArgumentNullException.ThrowIfNull(setting);
        var connectionString = setting(connectionName);
        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            // The SDK reads the string only when the first client is made, after the app has started; the mistakes
            // people make (a truncated or mistyped account key) are caught here, at start-up, without loading the SDK.
            if (Problem(connectionString) is { } problem)
            {
                throw new StorageSettingsException($"Setting '{connectionName}' is not a usable storage connection string: {problem}.");
            }

            return FromConnectionString(connectionString);
        }

        var tableUri = setting($"{connectionName}__tableServiceUri");
        var queueUri = setting($"{connectionName}__queueServiceUri");
        if (!Uri.TryCreate(tableUri, UriKind.Absolute, out var tables) || !Uri.TryCreate(queueUri, UriKind.Absolute, out var queues))
        {
            throw new StorageSettingsException(
                $"Storage setting '{connectionName}' is missing: set a connection string, or both " +
                $"'{connectionName}__tableServiceUri' and '{connectionName}__queueServiceUri' for managed identity.");
        }

        var clientId = setting($"{connectionName}__clientId");
        var credential = credentialFactory?.Invoke(clientId) ?? (string.IsNullOrWhiteSpace(clientId)
            ? new DefaultAzureCredential()
            : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId)));
        return WithCredential(tables, queues, credential, Uri.TryCreate(setting($"{connectionName}__blobServiceUri"), UriKind.Absolute, out var blobs) ? blobs : null);
    }
}

/// <summary>A storage setting is missing or unusable; the message names the setting.</summary>
public sealed class StorageSettingsException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public StorageSettingsException()
    {
    }

    /// <summary>Creates the exception with its message.</summary>
    public StorageSettingsException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its message and cause.</summary>
    public StorageSettingsException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
