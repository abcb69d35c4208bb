using Azure.Data.Tables;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Tests.Hosting;
using Loyalty.Storage.Azure;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;
using Loyalty.Testing;
using Microsoft.Extensions.Configuration;
using Xunit;

namespace Loyalty.Functions.Tests.Deployment;

/// <summary>Bicep cannot be compiled here, so its names and references are checked against each other and the app.</summary>
public sealed partial class InfraTests
{
    private static readonly string Infra = Path.GetDirectoryName(OpenApiDocumentTests.FindRepoFile("infra/main.bicep"))!;

    [Fact]
    public void Parameters_MatchMainBicep_AndEveryRequiredOneIsGiven()
    {
        var declared = Params(Read("main.bicep"));
        using var file = JsonDocument.Parse(Read("main.parameters.json"));
        var given = file.RootElement.GetProperty("parameters").EnumerateObject().Select(p => p.Name).ToList();

        Assert.All(given, name => Assert.True(declared.ContainsKey(name), $"main.parameters.json sets '{name}', which main.bicep does not declare"));

        // Secrets are passed by scripts/deploy.sh, never stored in the parameters file.
        var requiredSecrets = new[] { "phoneHashKey" };
        Assert.All(declared.Where(p => !p.Value), p => Assert.True(given.Contains(p.Key) || requiredSecrets.Contains(p.Key), $"required parameter '{p.Key}' is not in main.parameters.json"));
        Assert.All(requiredSecrets, s => Assert.DoesNotContain(s, given));
        Assert.Contains("phoneHashKey=", File.ReadAllText(OpenApiDocumentTests.FindRepoFile("scripts/deploy.sh")), StringComparison.Ordinal);
    }

    [Fact]
    public void Modules_Exist_AndEveryCallPassesExactlyTheirParameters()
    {
        var main = Read("main.bicep");
        var calls = ModuleCall().Matches(main);
        Assert.NotEmpty(calls);
        foreach (Match call in calls)
        {
            var path = Path.Combine(Infra, call.Groups["path"].Value);
            Assert.True(File.Exists(path), $"module {call.Groups["path"].Value} does not exist");
            var moduleParams = Params(File.ReadAllText(path));
            var passed = PassedParams(main, call.Index);
            Assert.All(passed, p => Assert.True(moduleParams.ContainsKey(p), $"{call.Groups["name"].Value} passes '{p}', which {call.Groups["path"].Value} does not declare"));
            Assert.All(moduleParams.Where(p => !p.Value), p => Assert.True(passed.Contains(p.Key), $"{call.Groups["name"].Value} does not pass required '{p.Key}'"));
        }
    }

    [Fact]
    public void AppSettings_FromBicep_AreEnoughForTheAppToStartWithIdentityStorage()
    {
        var settings = AppSettingNames().Select(n => (Name: n, Value: SampleValue(n))).ToDictionary(s => s.Name, s => (string?)s.Value);
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.ToDictionary(s => s.Key.Replace("__", ":", StringComparison.Ordinal), s => s.Value))
            .Build();
        var options = configuration.GetSection(LoyaltyOptions.Section).Get<LoyaltyOptions>() ?? new LoyaltyOptions();

        var validation = new LoyaltyOptionsValidator().Validate(null, options);
        var storage = StorageSettings.FromSettings(settings.GetValueOrDefault, LoyaltyOptions.StorageConnection, _ => new FakeCredential());

        Assert.True(validation.Succeeded, validation.FailureMessage);
        Assert.Null(storage.ConnectionString);
        Assert.NotNull(storage.Credential);
        Assert.Equal("managedidentity", settings["LoyaltyStorage__credential"]);
        Assert.Equal("managedidentity", settings["AzureWebJobsStorage__credential"]);
        Assert.DoesNotContain(settings.Keys, k => k is "AzureWebJobsStorage" or "LoyaltyStorage" or "FUNCTIONS_WORKER_RUNTIME");

        // Integration events go to the Service Bus topic with the app's identity (no connection string).
        Assert.Equal(EventTransportKind.ServiceBus, options.EventTransport);
        Assert.DoesNotContain(settings.Keys, k => k == "LoyaltyEvents");
        var bus = Loyalty.Functions.Events.ServiceBusConnection.CreateClient(configuration);
        Assert.Equal("sb-test.servicebus.windows.net", bus.FullyQualifiedNamespace);
    }

    [Fact]
    public void EventsTopic_HasDuplicateDetection_SessionSubscriptions_AndTheAppMaySend()
    {
        var bus = Read("modules/servicebus.bicep");
        var topic = bus[bus.IndexOf("resource eventsTopic", StringComparison.Ordinal)..];
        Assert.Contains("requiresDuplicateDetection: true", topic[..topic.IndexOf('}')], StringComparison.Ordinal);
        Assert.Contains("requiresSession: true", bus, StringComparison.Ordinal);
        foreach (var consumer in new[] { "'erp'", "'crm'", "'messaging'" })
        {
            Assert.Contains("name: " + consumer, bus, StringComparison.Ordinal);
        }

        Assert.Contains("roleIds.serviceBusDataSender", Read("modules/roles.bicep"), StringComparison.Ordinal);
    }

    [Fact]
    public void Bicep_HasNoSharedKeysAndRunsTheIsolatedWorkerOnFlex()
    {
        var all = string.Join('\n', Directory.GetFiles(Infra, "*.bicep", SearchOption.AllDirectories).Select(File.ReadAllText));
        var app = Read("modules/functionapp.bicep");

        Assert.DoesNotContain("listKeys(", all, StringComparison.Ordinal);
        Assert.DoesNotContain("AccountKey=", all, StringComparison.Ordinal);
        Assert.Contains("allowSharedKeyAccess: false", Read("modules/storage.bicep"), StringComparison.Ordinal);
        Assert.Contains("disableLocalAuth: true", Read("modules/servicebus.bicep"), StringComparison.Ordinal);
        Assert.Contains("name: 'FC1', tier: 'FlexConsumption'", app, StringComparison.Ordinal);
        Assert.Matches(@"runtime: \{\s*name: 'dotnet-isolated'\s*version: '10.0'", app);
        Assert.Contains("type: 'UserAssigned'", app, StringComparison.Ordinal);
        foreach (var role in new[] { "storageTableDataContributor", "storageQueueDataContributor", "storageBlobDataOwner", "serviceBusDataReceiver", "keyVaultSecretsUser" })
        {
            Assert.Matches($@"roleDefinitions', roleIds\.{role}\)", Read("modules/roles.bicep"));
        }
    }

    /// <summary>
    /// The bicep compiler from the Azure.Bicep.CommandLine.linux-x64 package builds and lints infra/main.bicep without
    /// an error or a warning, and the compiled ARM template runs the app as dotnet-isolated on Flex Consumption with
    /// identity-based connections and every setting the worker needs at start (those it validates, and those its
    /// trigger bindings name as %expressions%).
    /// </summary>
    [Fact]
    public async Task Bicep_BuildsAndLintsClean_AndTheCompiledAppHasEverySettingTheWorkerNeeds()
    {
        var (buildExit, template, buildErrors) = await BicepAsync("build", Path.Combine(Infra, "main.bicep"), "--stdout");
        var (lintExit, lintOut, lintErrors) = await BicepAsync("lint", Path.Combine(Infra, "main.bicep"));

        Assert.True(buildExit == 0, buildErrors);
        Assert.True(string.IsNullOrWhiteSpace(buildErrors), "bicep build: " + buildErrors);
        Assert.True(lintExit == 0 && string.IsNullOrWhiteSpace(lintOut + lintErrors), "bicep lint: " + lintOut + lintErrors);

        using var arm = JsonDocument.Parse(template);
        var site = Descendants(arm.RootElement).Single(e => e.ValueKind == JsonValueKind.Object && e.TryGetProperty("type", out var t) && t.GetString() == "Microsoft.Web/sites");
        var runtime = site.GetProperty("properties").GetProperty("functionAppConfig").GetProperty("runtime");
        var settings = site.GetProperty("properties").GetProperty("siteConfig").GetProperty("appSettings").EnumerateArray()
            .Select(a => a.GetProperty("name").GetString()!).ToHashSet(StringComparer.Ordinal);
        using var metadata = JsonDocument.Parse(File.ReadAllText(Path.Combine(Support.LoyaltyApp.AppDirectory, "functions.metadata")));
        // Settings named by the triggers (%Loyalty:QueuePrefix%) and by host.json (the task hub's %Loyalty:TaskHub%).
        var named = metadata.RootElement.GetRawText() + File.ReadAllText(OpenApiDocumentTests.FindRepoFile("host.json"));
        var bindingSettings = Regex.Matches(named, "%([^%\"]+)%").Select(m => m.Groups[1].Value.Replace(":", "__", StringComparison.Ordinal)).Distinct().ToList();
        Assert.Contains("Loyalty__TaskHub", bindingSettings);
        string[] validated = ["AzureWebJobsStorage__accountName", "AzureWebJobsStorage__credential", "LoyaltyStorage__tableServiceUri", "LoyaltyStorage__queueServiceUri", "LoyaltyStorage__credential", "LoyaltyStorage__clientId", "Loyalty__PhoneHashKey"];

        Assert.Equal("dotnet-isolated", runtime.GetProperty("name").GetString());
        Assert.Equal("Microsoft.Web/sites", site.GetProperty("type").GetString());
        Assert.Contains("functionapp", site.GetProperty("kind").GetString(), StringComparison.Ordinal);
        Assert.All(validated.Concat(bindingSettings), name => Assert.Contains(name, settings));
        Assert.DoesNotContain("AzureWebJobsStorage", settings);
        Assert.DoesNotContain("LoyaltyStorage", settings);
    }

    private static IEnumerable<JsonElement> Descendants(JsonElement element)
    {
        yield return element;
        var children = element.ValueKind switch
        {
            JsonValueKind.Object => element.EnumerateObject().Select(p => p.Value),
            JsonValueKind.Array => element.EnumerateArray(),
            _ => [],
        };
        foreach (var child in children.SelectMany(Descendants))
        {
            yield return child;
        }
    }

    private static async Task<(int Exit, string Output, string Errors)> BicepAsync(params string[] args)
    {
        var package = typeof(InfraTests).Assembly.GetCustomAttributes<System.Reflection.AssemblyMetadataAttribute>().Single(a => a.Key == "BicepPackage").Value!;
        var bicep = Path.Combine(package, "tools", "bicep");
        Assert.True(File.Exists(bicep), $"{bicep} (the Azure.Bicep.CommandLine.linux-x64 package) is restored");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(bicep, File.GetUnixFileMode(bicep) | UnixFileMode.UserExecute);
        }
        var info = new System.Diagnostics.ProcessStartInfo(bicep) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // The compiler checks for updates and sends telemetry unless told not to; CI has no use for either.
        info.Environment["BICEP_TELEMETRY_ENABLED"] = "false";
        using var process = System.Diagnostics.Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
        return (process.ExitCode, await output, await errors);
    }

    [Fact]
    public void StorageNames_DeclaredInBicep_AreTheAppsTablesAndQueues()
    {
        using var doc = JsonDocument.Parse(Read("storage-names.json"));
        var names = new StorageNames();
        var queues = names.AllQueues.SelectMany(q => new[] { q, StorageNames.Poison(q) });

        Assert.Equal(names.AllTables.Order(), doc.RootElement.GetProperty("tables").EnumerateArray().Select(t => t.GetString()!).Order());
        Assert.Equal(queues.Order(), doc.RootElement.GetProperty("queues").EnumerateArray().Select(t => t.GetString()!).Order());
    }

    [Fact]
    public async Task IdentitySettings_StorageCallsCarryABearerTokenAndNoSharedKey()
    {
        var settings = AppSettingNames().ToDictionary(n => n, n => (string?)SampleValue(n));
        string? clientIdUsed = null;
        var credential = new FakeCredential();
        var storage = StorageSettings.FromSettings(settings.GetValueOrDefault, LoyaltyOptions.StorageConnection, id => { clientIdUsed = id; return credential; });
        var transport = new CapturingTransport();
        var options = StorageClients.TableOptions();
        options.Transport = transport;
        options.Retry.MaxRetries = 0;

        await new TableServiceClient(storage.TableServiceUri, storage.Credential, options).GetTableClient("Members").FindEntityAsync("M1", "account");

        var (uri, auth) = Assert.Single(transport.Requests);
        Assert.Equal("Bearer token-for-https://storage.azure.com/.default", auth);
        Assert.StartsWith("https://", uri, StringComparison.Ordinal);
        Assert.Equal(settings["LoyaltyStorage__clientId"], clientIdUsed);
    }

    [Fact]
    public async Task DeployScript_WithoutTheAzureCli_StopsWithAClearMessage()
    {
        // A PATH with bash and coreutils but no az, whatever this machine has installed.
        var bin = Directory.CreateTempSubdirectory("loyalty-noaz-").FullName;
        foreach (var tool in new[] { "bash", "dirname", "head", "base64", "tr", "date" })
        {
            var found = new[] { "/usr/bin", "/bin" }.Select(d => Path.Combine(d, tool)).First(File.Exists);
            File.CreateSymbolicLink(Path.Combine(bin, tool), found);
        }

        var info = new System.Diagnostics.ProcessStartInfo(Path.Combine(bin, "bash")) { RedirectStandardError = true, RedirectStandardOutput = true };
        info.ArgumentList.Add(OpenApiDocumentTests.FindRepoFile("scripts/deploy.sh"));
        info.Environment["PATH"] = bin;
        info.Environment["LOYALTY_RESOURCE_GROUP"] = "rg-test";
        using var process = System.Diagnostics.Process.Start(info)!;
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.Equal(2, process.ExitCode);
        Assert.Contains("Azure CLI 'az' is not installed", stderr, StringComparison.Ordinal);
        Directory.Delete(bin, recursive: true);
    }

    private static string Read(string relative) => File.ReadAllText(Path.Combine(Infra, relative));

    /// <summary>Declared parameters and whether each has a default.</summary>
    private static Dictionary<string, bool> Params(string bicep) =>
        ParamLine().Matches(bicep).ToDictionary(m => m.Groups["name"].Value, m => m.Groups["default"].Success);

    private static HashSet<string> PassedParams(string bicep, int moduleStart)
    {
        var start = bicep.IndexOf("params: {", moduleStart, StringComparison.Ordinal) + "params: {".Length;
        var depth = 1;
        var keys = new HashSet<string>();
        var lineStart = true;
        for (var i = start; i < bicep.Length && depth > 0; i++)
        {
            var c = bicep[i];
            if (depth == 1 && lineStart && char.IsLetter(c))
            {
                var end = bicep.IndexOf(':', i);
                keys.Add(bicep[i..end].Trim());
            }

            lineStart = c == '\n' || (lineStart && char.IsWhiteSpace(c));
            depth += c switch { '{' or '[' or '(' => 1, '}' or ']' or ')' => -1, _ => 0 };
        }

        return keys;
    }

    private static IEnumerable<string> AppSettingNames() =>
        AppSetting().Matches(Read("modules/functionapp.bicep")).Select(m => m.Groups["name"].Value);

    private static string SampleValue(string name) => name switch
    {
        "LoyaltyStorage__tableServiceUri" => "https://stapp.table.core.windows.net/",
        "LoyaltyStorage__queueServiceUri" => "https://stapp.queue.core.windows.net/",
        "LoyaltyStorage__blobServiceUri" => "https://stapp.blob.core.windows.net/",
        "Loyalty__PhoneHashKey" => "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/phone-hash-key)",
        "Loyalty__TimeZone" => "Asia/Shanghai",
        "Loyalty__CardPrefix" => "8860",
        "Loyalty__QueuePrefix" => string.Empty,
        "Loyalty__EventTransport" => "ServiceBus",
        "Loyalty__EventTopic" => "loyalty-events",
        "LoyaltyEvents__fullyQualifiedNamespace" => "sb-test.servicebus.windows.net",
        _ when name.EndsWith("__credential", StringComparison.Ordinal) => "managedidentity",
        _ when name.EndsWith("__clientId", StringComparison.Ordinal) => "11111111-2222-3333-4444-555555555555",
        _ => "value-of-" + name,
    };

    [GeneratedRegex(@"^param (?<name>\w+) [^=\n]+(?<default>=.*)?$", RegexOptions.Multiline)]
    private static partial Regex ParamLine();

    [GeneratedRegex(@"^module (?<name>\w+) '(?<path>[^']+)'", RegexOptions.Multiline)]
    private static partial Regex ModuleCall();

    [GeneratedRegex(@"\{ name: '(?<name>[^']+)', value:")]
    private static partial Regex AppSetting();
}
