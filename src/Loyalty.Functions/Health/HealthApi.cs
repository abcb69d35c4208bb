using Azure;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Http;
using Loyalty.Storage.Org;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Health;

/// <summary><c>GET /api/health</c> (anonymous): 200 when storage answers, 503 otherwise.</summary>
internal static class HealthApi
{
    public static async Task<IResult> Handle(HttpContext http, OrgStore org, IOptions<LoyaltyOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(options);
        try
        {
            var current = await org.GetAsync(http.RequestAborted);
            return TypedResults.Ok(new
            {
                status = "healthy",
                mode = options.Value.HostingMode.ToString().ToLowerInvariant(),
                orgVersion = current?.Version,
                time = time.GetUtcNow(),
            });
        }
        catch (Exception ex) when (ex is RequestFailedException or HttpRequestException or IOException)
        {
            return Problems.Create(StatusCodes.Status503ServiceUnavailable, "storage_unavailable", "Storage did not answer.");
        }
    }
}
