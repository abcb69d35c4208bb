namespace Loyalty.Domain.Common;

/// <summary>The kind of an expected failure; the HTTP layer maps each kind to one status code.</summary>
public enum ErrorKind
{
    /// <summary>The request is malformed or breaks a rule about its own content (400).</summary>
    Validation,
    /// <summary>Something the request names does not exist (404).</summary>
    NotFound,
    /// <summary>The request collides with existing state (409).</summary>
    Conflict,
    /// <summary>The request is well formed but cannot be carried out as asked (422).</summary>
    Unprocessable,
    /// <summary>The caller may not do this (403).</summary>
    Forbidden,
}

/// <summary>An expected failure with a stable machine-readable code, returned as a value rather than thrown.</summary>
/// <param name="Code">Stable snake_case code, e.g. <c>duplicate_phone</c>; clients switch on it.</param>
/// <param name="Message">Human-readable detail for the person at the till.</param>
/// <param name="Kind">What class of failure this is.</param>
/// <param name="Field">The request field at fault, when there is one.</param>
public sealed record DomainError(string Code, string Message, ErrorKind Kind = ErrorKind.Validation, string? Field = null)
{
    /// <summary>A validation failure of one field.</summary>
    public static DomainError Invalid(string code, string field, string message) => new(code, message, ErrorKind.Validation, field);
}
