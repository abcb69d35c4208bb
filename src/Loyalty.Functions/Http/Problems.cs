using Loyalty.Domain.Common;
using Microsoft.AspNetCore.Mvc;

namespace Loyalty.Functions.Http;

/// <summary>
/// The one place failures become RFC 9457 problem details: <c>type</c> is <c>urn:loyalty:problem:{code}</c>, and the
/// stable <c>code</c> (plus the offending <c>field</c>, when there is one) is an extension member.
/// </summary>
internal static class Problems
{
    public const string TypePrefix = "urn:loyalty:problem:";

    public static IResult From(DomainError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return Create(StatusOf(error.Kind), error.Code, error.Message, error.Field);
    }

    public static IResult Create(int status, string code, string detail, string? field = null) =>
        TypedResults.Problem(Details(status, code, detail, field));

    public static ProblemDetails Details(int status, string code, string detail, string? field = null)
    {
        var problem = new ProblemDetails
        {
            Status = status,
            Type = TypePrefix + code,
            Title = Title(code),
            Detail = detail,
        };
        problem.Extensions["code"] = code;
        if (field is not null)
        {
            problem.Extensions["field"] = field;
        }

        return problem;
    }

    public static int StatusOf(ErrorKind kind) => kind switch
    {
        ErrorKind.Validation => StatusCodes.Status400BadRequest,
        ErrorKind.NotFound => StatusCodes.Status404NotFound,
        ErrorKind.Conflict => StatusCodes.Status409Conflict,
        ErrorKind.Unprocessable => StatusCodes.Status422UnprocessableEntity,
        ErrorKind.Forbidden => StatusCodes.Status403Forbidden,
        _ => StatusCodes.Status500InternalServerError,
    };

    private static string Title(string code) =>
        string.Concat(char.ToUpperInvariant(code[0]).ToString(), code[1..].Replace('_', ' '));
}
