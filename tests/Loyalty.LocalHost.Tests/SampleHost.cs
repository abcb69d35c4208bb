using Loyalty.Testing;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Loyalty.LocalHost.Tests;

/// <summary>
/// The sample isolated worker app (tests/Loyalty.LocalHost.SampleApp, its build output) run by the local host on a
/// free port, with queues of its own on the shared Azurite. Stopped, worker included, when the test class ends.
/// </summary>
public sealed class SampleHost : IAsyncLifetime
{
    private readonly string _prefix = "s" + Guid.NewGuid().ToString("N")[..8];

    public AzuriteFixture Azurite { get; } = new();

    public FunctionsHost Host { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public string IncomingQueue => _prefix + "-incoming";

    public string RelayedQueue => _prefix + "-relayed";

    public string TicksQueue => _prefix + "-ticks";

    /// <summary>The sample app's build output, in the configuration these tests were built in.</summary>
    public static string AppDirectory
    {
        get
        {
            var here = AppContext.BaseDirectory;
            var configuration = here.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
            var root = new DirectoryInfo(here);
            while (root is not null && !File.Exists(Path.Combine(root.FullName, "LoyaltyFunctions.sln")))
            {
                root = root.Parent;
            }

            return Path.Combine(root?.FullName ?? throw new DirectoryNotFoundException("No repository above " + here), "tests", "Loyalty.LocalHost.SampleApp", "bin", configuration, "net10.0");
        }
    }

    public static Dictionary<string, string> Settings(AzuriteFixture azurite, string prefix) => new()
    {
        ["SampleStorage"] = azurite.Server.ConnectionString,
        ["AzureWebJobsStorage"] = azurite.Server.ConnectionString,
        ["IncomingQueue"] = prefix + "-incoming",
        ["RelayedQueue"] = prefix + "-relayed",
        ["TicksQueue"] = prefix + "-ticks",
        ["SampleHub"] = "hub" + prefix,
    };

    public static ILoggerFactory Logging { get; } = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Warning));

    /// <summary>Another host of the sample on the same queues and task hub (for crash and restart tests).</summary>
    public Task<FunctionsHost> StartAnotherHostAsync() =>
        FunctionsHost.StartAsync(HostSettings.Load(AppDirectory, 0, overrides: Settings(Azurite, _prefix)), Logging);

    public async Task InitializeAsync()
    {
        var settings = HostSettings.Load(AppDirectory, 0, overrides: Settings(Azurite, _prefix));
        Host = await FunctionsHost.StartAsync(settings, Logging);
        Http = new HttpClient { BaseAddress = Host.BaseAddress, Timeout = TimeSpan.FromMinutes(1) };
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Host.DisposeAsync();
        await Task.WhenAll(new[] { IncomingQueue, IncomingQueue + "-poison", RelayedQueue, TicksQueue }.Select(q => Azurite.Queues.GetQueueClient(q).DeleteIfExistsAsync()));

        // The task hub's tables and queues (the Durable Task Framework names them after the hub).
        var hub = "hub" + _prefix;
        await foreach (var table in Azurite.Tables.QueryAsync(t => t.Name.CompareTo(hub) >= 0 && t.Name.CompareTo(hub + "~") < 0))
        {
            await Azurite.Tables.DeleteTableAsync(table.Name);
        }

        await foreach (var queue in Azurite.Queues.GetQueuesAsync(prefix: hub.ToLowerInvariant()))
        {
            await Azurite.Queues.DeleteQueueAsync(queue.Name);
        }
    }
}
