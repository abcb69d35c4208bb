using System.Security.Cryptography;

namespace Loyalty.Functions.Http;

/// <summary>The <c>Idempotency-Key</c> header: required on value-moving POSTs and enrolment; 1-128 printable ASCII characters.</summary>
internal static class IdempotencyKey
{
    public const string Header = "Idempotency-Key";

    public static (string? Key, IResult? Problem) Read(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var values = request.Headers[Header];
        if (values.Count == 0 || string.IsNullOrEmpty(values[0]))
        {
            return (null, Problems.Create(StatusCodes.Status400BadRequest, "idempotency_key_required", $"Send an {Header} header (1-128 characters) so a retry cannot apply twice."));
        }

        var key = values[0]!;
        if (values.Count > 1 || key.Length > 128 || key.Any(c => c is < '!' or > '~'))
        {
            return (null, Problems.Create(StatusCodes.Status400BadRequest, "idempotency_key_invalid", $"{Header} is one value of 1-128 printable ASCII characters."));
        }

        return (key, null);
    }

    /// <summary>Fingerprint of a request: method, path and exact body bytes.</summary>
    public static string RequestHash(HttpRequest request, byte[] body)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(body);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(System.Text.Encoding.UTF8.GetBytes($"{request.Method} {request.Path}\n"));
        hash.AppendData(body);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    public static IResult Mismatch() =>
        Problems.Create(StatusCodes.Status422UnprocessableEntity, "idempotency_key_reused", $"This {Header} was already used for a different request.");

    public static IResult InFlight() =>
        Problems.Create(StatusCodes.Status409Conflict, "idempotency_in_flight", $"A request with this {Header} is still being processed; retry shortly.");
}
