using Loyalty.Functions.Hosting;
using Loyalty.Functions.Http;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Options;

// The function app: a .NET isolated worker with the ASP.NET Core integration. The Functions host (in Azure, or
// src/Loyalty.LocalHost here) starts this process, indexes its [Function] methods and sends it every invocation.
var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.UseMiddleware<HttpGuard>();
builder.UseMiddleware<Loyalty.Functions.Durable.DurableClientMiddleware>();

// The worker's serializer writes the API's JSON (camelCase, enums as camelCase strings). Orchestrator inputs read with
// GetInput do not go through it (docs/durable.md): starters hand the client JSON already, and enums that cross an
// orchestration carry a string converter of their own.
builder.Services.Configure<Microsoft.Azure.Functions.Worker.WorkerOptions>(o => o.Serializer = new Azure.Core.Serialization.JsonObjectSerializer(JsonDefaults.Options));

// Header values in UTF-8 reach the app, which answers a malformed one (an Idempotency-Key in Chinese) with its own problem.
builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(k => k.RequestHeaderEncodingSelector = _ => System.Text.Encoding.UTF8);

// Request logging would print URLs, and phone numbers travel in query strings (operations.md).
builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
try
{
    builder.Services
        .AddLoyaltyOptions(builder.Configuration)
        .AddLoyaltyStorage(builder.Configuration)
        .AddLoyaltyFunctions();
    using var app = builder.Build();
    await app.RunAsync();
    return 0;
}
catch (Exception ex) when (ex is OptionsValidationException or Loyalty.Storage.Azure.StorageSettingsException)
{
    // A setting is wrong: say which and why in one line (operations.md), not a stack trace, and exit non-zero.
    var reasons = ex is OptionsValidationException invalid ? invalid.Failures : [ex.Message];
    await Console.Error.WriteLineAsync("LoyaltyFunctions cannot start: " + string.Join(" ", reasons));
    return 2;
}
