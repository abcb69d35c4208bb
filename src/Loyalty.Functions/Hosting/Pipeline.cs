using Loyalty.Functions.Hosting.CustomHandler;
using Loyalty.Functions.Http;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Hosting;

/// <summary>Middleware and endpoints.</summary>
internal static class Pipeline
{
    public static WebApplication UseLoyaltyPipeline(this WebApplication app)
    {
        app.UseExceptionHandler();
        var gate = app.Services.GetRequiredService<Admin.BootstrapGate>();
        app.Use(async (context, next) =>
        {
            // The host's readiness probe and health answer at once; everything else waits for storage to be ready.
            if (context.Request.Path != "/" && !context.Request.Path.StartsWithSegments("/api/health"))
            {
                await gate.Ready.WaitAsync(TimeSpan.FromSeconds(30), context.RequestAborted);
            }

            await next(context);
        });
        app.UseStatusCodePages(async context =>
        {
            var http = context.HttpContext;
            var code = http.Response.StatusCode switch
            {
                StatusCodes.Status404NotFound => "route_not_found",
                StatusCodes.Status405MethodNotAllowed => "method_not_allowed",
                _ => "http_" + http.Response.StatusCode,
            };
            await Results.Problem(Problems.Details(http.Response.StatusCode, code, $"{http.Request.Method} {http.Request.Path} is not served.")).ExecuteAsync(http);
        });
        return app;
    }

    public static WebApplication MapLoyaltyFunctions(this WebApplication app)
    {
        var functions = app.Services.GetRequiredService<IEnumerable<FunctionDefinition>>().ToList();
        var host = app.Services.GetRequiredService<HostJson>();
        var options = app.Services.GetRequiredService<IOptions<LoyaltyOptions>>().Value;

        // The Functions host waits for the handler to answer on its port before sending work.
        app.MapGet("/", () => Results.Text("LoyaltyFunctions custom handler is running.")).ExcludeFromDescription();

        foreach (var function in functions)
        {
            if (function.Trigger is HttpTrigger http)
            {
                var endpoint = app.MapMethods($"/{host.RoutePrefix}/{http.Route}", http.Methods, (Delegate)function.Handler).WithName(function.Name);
                if (http.Roles.Count > 0)
                {
                    endpoint.AddEndpointFilter(new ApiKeyFilter(http.Roles));
                }
            }
        }

        if (options.HostingMode == HostingMode.Azure)
        {
            app.MapInvocations(functions);
        }
        else
        {
            // Locally the reports page is also at /dashboard (the Functions host serves every HTTP function under its route prefix).
            app.MapGet("/dashboard", Reports.DashboardPage.Handle).ExcludeFromDescription();
        }

        return app;
    }
}
