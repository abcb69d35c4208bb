using System.Diagnostics;
using System.Text.Json;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Hosting.Timers;
using Loyalty.Functions.Tests.Support;
using Loyalty.Storage.Schema;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Loyalty.Functions.Tests.Hosting;

public sealed class FunctionMetadataTests(AzureModeApp app) : IClassFixture<AzureModeApp>
{
    [Fact]
    public async Task EmitMetadataCommand_WritesAValidFunctionJsonPerFunction()
    {
        var output = Directory.CreateTempSubdirectory("loyalty-metadata-").FullName;
        var catalogue = FunctionCatalog.Build(new StorageNames());

        var (exit, stdout) = await RunAppAsync("emit-metadata", output);

        Assert.True(exit == 0, stdout);
        Assert.Equal(catalogue.Select(f => f.Name).Order(), Directory.GetDirectories(output).Select(Path.GetFileName).Order());
        foreach (var function in catalogue)
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, function.Name, "function.json")));
            var bindings = doc.RootElement.GetProperty("bindings").EnumerateArray().ToList();
            var trigger = bindings[0];
            Assert.Equal("in", trigger.GetProperty("direction").GetString());
            Assert.False(string.IsNullOrEmpty(trigger.GetProperty("name").GetString()));
            switch (function.Trigger)
            {
                case HttpTrigger http:
                    Assert.Equal("httpTrigger", trigger.GetProperty("type").GetString());
                    Assert.Equal("anonymous", trigger.GetProperty("authLevel").GetString());
                    Assert.Equal(http.Route, trigger.GetProperty("route").GetString());
                    Assert.Equal(http.Methods.Select(m => m.ToLowerInvariant()), trigger.GetProperty("methods").EnumerateArray().Select(m => m.GetString()));
                    Assert.Equal(2, bindings.Count);
                    Assert.Equal("http", bindings[1].GetProperty("type").GetString());
                    Assert.Equal("out", bindings[1].GetProperty("direction").GetString());
                    break;
                case QueueTrigger queue:
                    Assert.Equal("queueTrigger", trigger.GetProperty("type").GetString());
                    Assert.Equal("message", trigger.GetProperty("name").GetString());
                    Assert.Equal(queue.QueueName, trigger.GetProperty("queueName").GetString());
                    Assert.Equal("LoyaltyStorage", trigger.GetProperty("connection").GetString());
                    Assert.Single(bindings);
                    break;
                case ServiceBusTrigger bus:
                    Assert.Equal("serviceBusTrigger", trigger.GetProperty("type").GetString());
                    Assert.Equal(bus.QueueName, trigger.GetProperty("queueName").GetString());
                    Assert.Equal("ServiceBusConnection", trigger.GetProperty("connection").GetString());
                    Assert.Single(bindings);
                    break;
                case TimerTrigger:
                    Assert.Equal("timerTrigger", trigger.GetProperty("type").GetString());
                    Assert.True(CronSchedule.IsValid(trigger.GetProperty("schedule").GetString()!));
                    Assert.Single(bindings);
                    break;
                default:
                    Assert.Fail($"Unexpected trigger {function.Trigger}");
                    break;
            }
        }
    }

    [Fact]
    public void Catalogue_HttpRoutesAreTheAppsRoutes_AndOtherFunctionsHaveInvocationRoutes()
    {
        var endpoints = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Select(e => (Route: e.RoutePattern.RawText!.TrimStart('/'), Methods: e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? []))
            .ToList();
        var host = HostJson.Load(HostJson.Find(null)!);

        foreach (var function in app.Services.GetRequiredService<IEnumerable<FunctionDefinition>>())
        {
            var (route, method) = function.Trigger is HttpTrigger http ? ($"{host.RoutePrefix}/{http.Route}", http.Methods[0]) : (function.Name, "POST");
            Assert.Contains(endpoints, e => e.Route == route && e.Methods.Contains(method));
        }
    }

    [Fact]
    public void Catalogue_NamesAreUniqueAndValidFolderNames()
    {
        var names = FunctionCatalog.Build(new StorageNames()).Select(f => f.Name).ToList();
        Assert.Equal(names.Count, names.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.All(names, n => Assert.Matches("^[A-Za-z][A-Za-z0-9_]{0,126}$", n));
    }

    [Fact]
    public void HostJson_IsTheOneTheAppReads()
    {
        var host = HostJson.Load(HostJson.Find(null)!);
        var read = app.Services.GetRequiredService<HostJson>();

        // The tests run with quicker retries; everything else is the repository's host.json.
        Assert.Equal(host with { VisibilityTimeout = TimeSpan.Zero, MaxDequeueCount = 3, MaxPollingInterval = TimeSpan.FromMilliseconds(200) }, read);
        Assert.Equal("api", host.RoutePrefix);
        Assert.Equal("Loyalty.Functions", host.ExecutablePath);
        Assert.Equal(16, host.BatchSize);
        Assert.Equal(8, host.NewBatchThreshold);
        Assert.Equal(5, host.MaxDequeueCount);
        Assert.Equal(2, (HostJson.Defaults with { BatchSize = 4 }).NewBatchThreshold); // the host's default: half a batch
    }

    private static async Task<(int Exit, string Output)> RunAppAsync(params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Loyalty.Functions.dll");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetTempPath() };
        info.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }
}
