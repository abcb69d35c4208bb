using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.DependencyInjection;

namespace Loyalty.Storage.Azure;

/// <summary>
/// The Azure SDK clients for the app's tables and queues: one <see cref="TableServiceClient"/> and one
/// <see cref="QueueServiceClient"/> per process, with the same options everywhere.
/// </summary>
public static class StorageClients
{
    /// <summary>Retries of a failed storage request unless the app's settings say otherwise.</summary>
    public const int DefaultMaxRetries = 3;

    /// <summary>
    /// Options for a request path: a few quick retries and a short network timeout (the SDK defaults wait longer
    /// than a till waits for an answer). <paramref name="policies"/> run per call, ahead of the retry policy.
    /// </summary>
    public static TableClientOptions TableOptions(params HttpPipelinePolicy[] policies)
    {
        var options = new TableClientOptions();
        Tune(options, policies);
        return options;
    }

    /// <summary>
    /// Queue options as <see cref="TableOptions"/>, with base64 message text: the Functions host's queue trigger
    /// expects it, so what the app sends is what a queue trigger reads in Azure.
    /// </summary>
    public static QueueClientOptions QueueOptions(params HttpPipelinePolicy[] policies)
    {
        var options = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
        Tune(options, policies);
        return options;
    }

    /// <summary>
    /// Registers the two service clients as singletons (Microsoft.Extensions.Azure) for the connection, retrying a
    /// failed request up to <paramref name="maxRetries"/> times.
    /// </summary>
    public static IServiceCollection AddStorageClients(this IServiceCollection services, StorageSettings settings, int maxRetries = DefaultMaxRetries)
    {
        ArgumentNullException.ThrowIfNull(settings);
        services.AddAzureClients(builder =>
        {
            if (settings.ConnectionString is { } connection)
            {
                builder.AddTableServiceClient(connection).ConfigureOptions(o => Tune(o, [], maxRetries));
                builder.AddQueueServiceClient(connection).ConfigureOptions(o => ConfigureQueue(o, maxRetries));
                builder.AddBlobServiceClient(connection).ConfigureOptions(o => Tune(o, [], maxRetries));
            }
            else
            {
                builder.UseCredential(settings.Credential!);
                builder.AddTableServiceClient(settings.TableServiceUri!).ConfigureOptions(o => Tune(o, [], maxRetries));
                builder.AddQueueServiceClient(settings.QueueServiceUri!).ConfigureOptions(o => ConfigureQueue(o, maxRetries));
                builder.AddBlobServiceClient(settings.BlobServiceUri!).ConfigureOptions(o => Tune(o, [], maxRetries));
            }
        });
        return services;
    }

    /// <summary>The two service clients for a connection string (tools, the benchmark and tests).</summary>
    public static (TableServiceClient Tables, QueueServiceClient Queues) FromConnectionString(string connectionString, params HttpPipelinePolicy[] policies) =>
        (new TableServiceClient(connectionString, TableOptions(policies)), new QueueServiceClient(connectionString, QueueOptions(policies)));

    private static void ConfigureQueue(QueueClientOptions options, int maxRetries)
    {
        options.MessageEncoding = QueueMessageEncoding.Base64;
        Tune(options, [], maxRetries);
    }

    private static void Tune(ClientOptions options, HttpPipelinePolicy[] policies, int maxRetries = DefaultMaxRetries)
    {
        options.Retry.MaxRetries = maxRetries;
        options.Retry.Mode = RetryMode.Exponential;
        options.Retry.Delay = TimeSpan.FromMilliseconds(100);
        options.Retry.MaxDelay = TimeSpan.FromSeconds(2);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(30);
        options.Diagnostics.IsLoggingContentEnabled = false;
        options.Diagnostics.IsTelemetryEnabled = false;
        foreach (var policy in policies)
        {
            // Ahead of the retry policy: an injected fault reaches the caller as a failure that outlasted the retries.
            options.AddPolicy(policy, HttpPipelinePosition.PerCall);
        }
    }
}
