using System.Text.Json;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Loyalty.Storage.Azure;

/// <summary>Builds the Azure.Core pipeline for one storage service and turns error responses into exceptions.</summary>
internal static class StoragePipeline
{
    public const string StorageScope = "https://storage.azure.com/.default";

    public static HttpPipeline Build(StorageAccount account, SharedKeyPolicy.Service service, StorageClientOptions options)
    {
        var perRetry = new List<HttpPipelinePolicy>(options.AdditionalPolicies);
        perRetry.Add(account.UsesSharedKey
            ? new SharedKeyPolicy(account.AccountName!, account.AccountKey!, service)
            : new BearerTokenAuthenticationPolicy(account.Credential!, StorageScope));
        return HttpPipelineBuilder.Build(options, [], [.. perRetry], new ResponseClassifier());
    }

    /// <summary>A request to <paramref name="endpoint"/>/<paramref name="path"/> with the service version header set.</summary>
    public static HttpMessage CreateMessage(HttpPipeline pipeline, Uri endpoint, RequestMethod method, string path, string? query, string apiVersion)
    {
        var message = pipeline.CreateMessage();
        var request = message.Request;
        request.Method = method;
        var uri = new RequestUriBuilder();
        uri.Reset(endpoint);
        uri.AppendPath("/" + path, escape: false);
        if (!string.IsNullOrEmpty(query))
        {
            uri.Query = "?" + query;
        }

        request.Uri = uri;
        request.Headers.SetValue("x-ms-version", apiVersion);
        return message;
    }

    /// <summary>Creates the exception for a failed response, reading the service's error code from header or body.</summary>
    public static RequestFailedException Failure(Response response)
    {
        var code = response.Headers.TryGetValue("x-ms-error-code", out var header) ? header : null;
        var message = $"Storage request failed with {response.Status} {response.ReasonPhrase}";
        var body = response.Content?.ToString();
        if (!string.IsNullOrEmpty(body) && body.TrimStart().StartsWith('{'))
        {
            try
            {
                using var doc = JsonDocument.Parse(body);
                if (doc.RootElement.TryGetProperty("odata.error", out var error))
                {
                    code ??= error.TryGetProperty("code", out var c) ? c.GetString() : null;
                    if (error.TryGetProperty("message", out var m) && m.TryGetProperty("value", out var v))
                    {
                        message += ": " + v.GetString();
                    }
                }
            }
            catch (JsonException)
            {
                // The body is only used to enrich the message.
            }
        }
        else if (!string.IsNullOrEmpty(body) && body.Contains("<Code>", StringComparison.Ordinal))
        {
            var start = body.IndexOf("<Code>", StringComparison.Ordinal) + 6;
            var end = body.IndexOf("</Code>", start, StringComparison.Ordinal);
            code ??= end > start ? body[start..end] : null;
        }

        return new RequestFailedException(response.Status, $"{message} ({code})", code, null);
    }
}
