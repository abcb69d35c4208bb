using Microsoft.AspNetCore.Diagnostics;

namespace Loyalty.Functions.Http;

/// <summary>Turns anything unexpected into a problem without internals; the details go to the log only.</summary>
internal sealed class UnhandledExceptionHandler(ILogger<UnhandledExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var (status, code, detail) = exception switch
        {
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => (413, "body_too_large", "The body is too large."),
            BadHttpRequestException bad => (bad.StatusCode, "bad_request", "The request could not be read."),
            Azure.RequestFailedException { Status: >= 500 } or Azure.RequestFailedException { Status: 0 } or HttpRequestException or IOException or TimeoutException
                or OperationCanceledException when !httpContext.RequestAborted.IsCancellationRequested =>
                (503, "storage_unavailable", "Storage did not answer; retry with the same Idempotency-Key (nothing is applied twice)."),
            _ => (500, "internal_error", "Something went wrong; the request may be retried with the same Idempotency-Key."),
        };
        if (status == 500)
        {
            logger.LogError(exception, "Unhandled failure on {Method} {Path}", httpContext.Request.Method, httpContext.Request.Path);
        }
        else if (status == 503)
        {
            logger.LogWarning(exception, "Storage failure on {Method} {Path}", httpContext.Request.Method, httpContext.Request.Path);
        }

        if (status == 503)
        {
            httpContext.Response.Headers.RetryAfter = "1";
        }

        await Results.Problem(Problems.Details(status, code, detail)).ExecuteAsync(httpContext);
        return true;
    }
}
