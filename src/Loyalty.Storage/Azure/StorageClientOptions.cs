using Azure.Core;
using Azure.Core.Pipeline;

namespace Loyalty.Storage.Azure;

/// <summary>Pipeline options for the storage clients: retries, timeouts and diagnostics come from Azure.Core.</summary>
public sealed class StorageClientOptions : ClientOptions
{
    /// <summary>Defaults tuned for a request path: a few quick retries, a short network timeout.</summary>
    public StorageClientOptions()
    {
        Retry.MaxRetries = 3;
        Retry.Mode = RetryMode.Exponential;
        Retry.Delay = TimeSpan.FromMilliseconds(100);
        Retry.MaxDelay = TimeSpan.FromSeconds(2);
        Retry.NetworkTimeout = TimeSpan.FromSeconds(30);
        Diagnostics.IsLoggingContentEnabled = false;
        Diagnostics.IsTelemetryEnabled = false;
    }

    /// <summary>Extra per-retry policies (tests use this to inject faults at the wire).</summary>
    public IList<HttpPipelinePolicy> AdditionalPolicies { get; } = [];
}
