using Microsoft.Extensions.Logging;
using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Loyalty.Functions.Tests.Hosting;
using Loyalty.Functions.Tests.Support;
using Loyalty.Testing;
using Xunit;

namespace Loyalty.Functions.Tests.Deployment;

/// <summary>The zip that scripts/publish.sh builds, unpacked and run by the local Functions host.</summary>
public sealed class PackageFixture : IAsyncLifetime
{
    public string Root { get; } = Directory.CreateTempSubdirectory("loyalty-package-").FullName;

    public string Zip { get; private set; } = string.Empty;

    public async Task InitializeAsync()
    {
        Zip = Environment.GetEnvironmentVariable("LOYALTY_PACKAGE") is { Length: > 0 } given && File.Exists(given)
            ? given
            : await PublishAsync();
        ZipFile.ExtractToDirectory(Zip, Root);
    }

    public Task DisposeAsync()
    {
        Directory.Delete(Root, recursive: true);
        return Task.CompletedTask;
    }

    private static async Task<string> PublishAsync()
    {
        var script = OpenApiDocumentTests.FindRepoFile("scripts/publish.sh");
        var output = Directory.CreateTempSubdirectory("loyalty-publish-").FullName;
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(script);
        info.ArgumentList.Add(output);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"publish.sh failed: {await stdout}{await stderr}");
        return Path.Combine(output, "LoyaltyFunctions.zip");
    }
}

/// <summary>Run alone, after the parallel tests: the start-up time it checks should not measure their load.</summary>
[CollectionDefinition("Package", DisableParallelization = true)]
public sealed class PackageRunsAlone;

[Collection("Package")]
public sealed class PackageTests(PackageFixture package) : IClassFixture<PackageFixture>
{
    [Fact]
    public void Package_IsTheIsolatedWorkerApp_WithTheIndexTheHostReads()
    {
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(package.Root, "worker.config.json")));
        var description = config.RootElement.GetProperty("description");
        using var metadata = JsonDocument.Parse(File.ReadAllText(Path.Combine(package.Root, "functions.metadata")));
        using var built = JsonDocument.Parse(File.ReadAllText(Path.Combine(LoyaltyApp.AppDirectory, "functions.metadata")));
        var hostJson = File.ReadAllText(Path.Combine(package.Root, "host.json"));

        Assert.Equal("dotnet-isolated", description.GetProperty("language").GetString());
        Assert.Equal("Loyalty.Functions.dll", description.GetProperty("defaultWorkerPath").GetString());
        Assert.True(File.Exists(Path.Combine(package.Root, "Loyalty.Functions.dll")));
        Assert.True(File.Exists(Path.Combine(package.Root, "extensions.json")));
        Assert.Contains(Directory.GetFiles(Path.Combine(package.Root, ".azurefunctions")), f => f.EndsWith("Microsoft.Azure.WebJobs.Extensions.Storage.Queues.dll", StringComparison.Ordinal));
        Assert.Contains(Directory.GetFiles(Path.Combine(package.Root, ".azurefunctions")), f => f.EndsWith("Microsoft.Azure.WebJobs.Extensions.DurableTask.dll", StringComparison.Ordinal));
        Assert.Equal(File.ReadAllText(OpenApiDocumentTests.FindRepoFile("host.json")), hostJson);
        Assert.DoesNotContain("customHandler", hostJson, StringComparison.Ordinal);
        Assert.Equal(
            built.RootElement.EnumerateArray().Select(f => f.GetProperty("name").GetString()).Order(),
            metadata.RootElement.EnumerateArray().Select(f => f.GetProperty("name").GetString()).Order());
        using var zip = ZipFile.OpenRead(package.Zip);
        Assert.Contains(zip.Entries, e => e.FullName == "functions.metadata");
        Assert.Contains(zip.Entries, e => e.FullName.StartsWith(".azurefunctions/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Package_RunByTheLocalHost_ServesHttp_AndItsQueueFunctionsRun()
    {
        var azurite = AzuriteServer.Instance;
        var names = new Loyalty.Storage.Schema.StorageNames("pkg" + Guid.NewGuid().ToString("N")[..8], "pkg" + Guid.NewGuid().ToString("N")[..8] + "-");
        var settings = LocalHost.HostSettings.Load(package.Root, 0, overrides: new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["LoyaltyStorage"] = azurite.ConnectionString,
            ["Loyalty__PhoneHashKey"] = LoyaltyApp.PhoneHashKey,
            ["Loyalty__TablePrefix"] = names.TablePrefix,
            ["Loyalty__QueuePrefix"] = names.QueuePrefix,
            ["Loyalty__TaskHub"] = "pkg" + Guid.NewGuid().ToString("N")[..8],
            ["LOYALTY_ADMIN_KEY"] = LoyaltyApp.AdminKey,
        });
        await using var host = await LocalHost.FunctionsHost.StartAsync(settings, Microsoft.Extensions.Logging.LoggerFactory.Create(b => b.AddSimpleConsole().SetMinimumLevel(Microsoft.Extensions.Logging.LogLevel.Information)));
        using var client = new HttpClient { BaseAddress = host.BaseAddress };
        client.DefaultRequestHeaders.Add("X-Api-Key", LoyaltyApp.AdminKey);

        (await client.PutAsJsonAsync("/api/config/org", new { nodes = new object[] { new { id = "hq", kind = "hq", name = "HQ" }, new { id = "r1", kind = "region", name = "R1" }, new { id = "s1", kind = "store", name = "S1", parentId = "r1" } } }))
            .EnsureSuccessStatusCode();
        var enrolled = await client.EnrolAsync(new { phone = LoyaltyApp.NewPhone(), name = "Package", storeId = "s1" }, "pkg-1");
        var memberId = (await enrolled.JsonAsync()).GetProperty("memberId").GetString();

        // The member-enrolled message is picked up by WelcomeNewMember, which writes the welcome notification.
        JsonElement items = default;
        await Api.EventuallyAsync(
            async () =>
            {
                items = (await (await client.GetAsync($"/api/members/{memberId}/notifications")).JsonAsync()).GetProperty("items");
                return items.GetArrayLength() > 0;
            },
            "the welcome notification");

        Assert.Equal(HttpStatusCode.Created, enrolled.StatusCode);
        Assert.Equal("welcome", Assert.Single(items.EnumerateArray()).GetProperty("notificationId").GetString());
        await Task.WhenAll(names.AllTables.Select(t => (Task)new Azure.Data.Tables.TableServiceClient(azurite.ConnectionString).DeleteTableAsync(t)));
    }
}
