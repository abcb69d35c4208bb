using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Loyalty.Testing;

/// <summary>A token credential that hands out <c>token-for-{scopes}</c> and records the scopes asked for.</summary>
public sealed class FakeCredential : TokenCredential
{
    /// <summary>Scopes of every request.</summary>
    public List<string[]> Scopes { get; } = [];

    /// <inheritdoc />
    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        Scopes.Add(requestContext.Scopes);
        return new AccessToken("token-for-" + string.Join(' ', requestContext.Scopes), DateTimeOffset.UtcNow.AddHours(1));
    }

    /// <inheritdoc />
    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        new(GetToken(requestContext, cancellationToken));
}

/// <summary>A pipeline transport that sends nothing: it records each request's URI and Authorization header and answers 404.</summary>
public sealed class CapturingTransport : HttpPipelineTransport
{
    /// <summary>What was sent.</summary>
    public List<(string Uri, string? Authorization)> Requests { get; } = [];

    /// <inheritdoc />
    public override Request CreateRequest() => HttpClientTransport.Shared.CreateRequest();

    /// <inheritdoc />
    public override void Process(HttpMessage message) => ProcessAsync(message).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc />
    public override ValueTask ProcessAsync(HttpMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        message.Request.Headers.TryGetValue("Authorization", out var auth);
        Requests.Add((message.Request.Uri.ToString(), auth));
        var response = message.Request.Uri.Host?.Contains(".table.", StringComparison.Ordinal) == true
            ? new SyntheticResponse(404, "ResourceNotFound", "Nothing is sent by this transport.")
            : new SyntheticResponse(404, "MessageNotFound", "Nothing is sent by this transport.", xml: true);
        message.Response = response;
        response.Error = message.ResponseClassifier.IsErrorResponse(message);
        return ValueTask.CompletedTask;
    }
}
