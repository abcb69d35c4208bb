using System.Diagnostics.CodeAnalysis;
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
        message.Response = new NotFoundResponse();
        return ValueTask.CompletedTask;
    }

    private sealed class NotFoundResponse : Response
    {
        public override int Status => 404;

        public override string ReasonPhrase => "Not Found";

        public override Stream? ContentStream { get; set; } = new MemoryStream();

        public override string ClientRequestId { get; set; } = string.Empty;

        public override void Dispose()
        {
        }

        protected override bool ContainsHeader(string name) => false;

        protected override IEnumerable<HttpHeader> EnumerateHeaders() => [];

        protected override bool TryGetHeader(string name, [NotNullWhen(true)] out string? value)
        {
            value = null;
            return false;
        }

        protected override bool TryGetHeaderValues(string name, [NotNullWhen(true)] out IEnumerable<string>? values)
        {
            values = null;
            return false;
        }
    }
}
