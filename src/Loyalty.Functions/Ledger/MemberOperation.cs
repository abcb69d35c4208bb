using Loyalty.Domain.Auth;
using Loyalty.Domain.Members;
using Loyalty.Domain.Org;
using Loyalty.Functions.Http;
using Loyalty.Storage.Ledger;

namespace Loyalty.Functions.Ledger;

/// <summary>What every value-moving request has once its headers and body are checked.</summary>
internal sealed record PreparedRequest<T>(Principal Caller, T Body, IdempotencyContext Idempotency);

/// <summary>Shared steps of value-moving endpoints: key, body, store scope, and turning an outcome into HTTP.</summary>
internal static class MemberOperation
{
    /// <summary>Reads the Idempotency-Key and the body; the problem, if any, comes first.</summary>
    public static async Task<(PreparedRequest<T>? Request, IResult? Problem)> PrepareAsync<T>(HttpContext http, int maxBytes, IReadOnlyCollection<string> serverOwned)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(http);
        var (key, keyProblem) = IdempotencyKey.Read(http.Request);
        if (keyProblem is not null)
        {
            return (null, keyProblem);
        }

        var (body, bodyProblem) = await JsonBody.ReadAsync<T>(http.Request, maxBytes, serverOwned, http.RequestAborted);
        if (bodyProblem is not null)
        {
            return (null, bodyProblem);
        }

        var caller = http.Caller();
        return (new PreparedRequest<T>(caller, body!.Value, new IdempotencyContext(caller.Id, key!, IdempotencyKey.RequestHash(http.Request, body.Raw))), null);
    }

    /// <summary>Checks that <paramref name="storeId"/> is a store inside the caller's scope.</summary>
    public static IResult? CheckStore(Principal caller, OrgTree org, string? storeId)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(org);
        if (string.IsNullOrEmpty(storeId))
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "store_required", "storeId names the store where this happens.", "storeId");
        }

        if (org.FindStore(storeId) is null)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "store_unknown", $"No store '{storeId}' in the org tree.", "storeId");
        }

        return caller.InScope(org, storeId)
            ? null
            : Problems.Create(StatusCodes.Status403Forbidden, "forbidden_scope", $"Store '{storeId}' is outside the caller's scope.");
    }

    /// <summary>A member id that cannot exist answers 404 before any storage call.</summary>
    public static IResult? CheckMemberId(string memberId) =>
        MemberId.IsWellFormed(memberId) ? null : Problems.Create(StatusCodes.Status404NotFound, "member_not_found", "No such member.");

    /// <summary>The HTTP answer of an outcome; replays carry <c>Idempotent-Replayed: true</c>.</summary>
    public static IResult ToResult(MemberOutcome outcome) => outcome switch
    {
        Completed done => new StoredJson(done.Status, done.Body, done.Replayed),
        Refused refused when refused.Error.Code == "contention" => Problems.Create(StatusCodes.Status503ServiceUnavailable, "contention", refused.Error.Message),
        Refused refused => Problems.From(refused.Error),
        _ => throw new InvalidOperationException($"Unexpected outcome {outcome}"),
    };

    private sealed class StoredJson(int status, string body, bool replayed) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = status;
            httpContext.Response.ContentType = "application/json; charset=utf-8";
            if (replayed)
            {
                httpContext.Response.Headers["Idempotent-Replayed"] = "true";
            }

            return httpContext.Response.WriteAsync(body);
        }
    }
}
