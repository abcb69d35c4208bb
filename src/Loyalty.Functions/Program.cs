using System.Globalization;
using Loyalty.Functions;
using Loyalty.Functions.Hosting;
using Loyalty.Storage.Schema;
using Microsoft.Extensions.Options;

var builder = WebApplication.CreateBuilder(args);
builder.Configuration.AddLocalSettings(Directory.GetCurrentDirectory());

if (args is ["emit-metadata", var outputDirectory])
{
    // Build step of scripts/publish.sh: one function.json per declared function.
    var section = builder.Configuration.GetSection(LoyaltyOptions.Section);
    var names = new StorageNames(section["TablePrefix"], section["QueuePrefix"]);
    foreach (var file in FunctionMetadataWriter.Write(FunctionCatalog.Build(names), outputDirectory))
    {
        Console.WriteLine(file);
    }

    return 0;
}

builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = 8 * 1024 * 1024);
if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
{
    // Azure: the host tells the handler its port. Local: 7071, like `func start`.
    var port = builder.Configuration["FUNCTIONS_CUSTOMHANDLER_PORT"] ?? builder.Configuration["LOYALTY_PORT"] ?? "7071";
    builder.WebHost.UseUrls(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}"));
}

try
{
    builder.Services
        .AddLoyaltyOptions(builder.Configuration)
        .AddLoyaltyStorage(builder.Configuration)
        .AddLoyaltyFunctions();

    var app = builder.Build();
    app.UseLoyaltyPipeline();
    app.MapLoyaltyFunctions();
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

/// <summary>Entry point; public for the in-process test host.</summary>
public partial class Program;
