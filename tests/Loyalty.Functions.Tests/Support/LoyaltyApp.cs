using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Data.Tables;
using Loyalty.Functions.Hosting;
using Loyalty.LocalHost;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;
using Loyalty.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Loyalty.Functions.Tests.Support;

/// <summary>
/// The function app as it runs here: its build output (the real isolated worker) started by the local Functions
/// host on a free port, on the shared Azurite, with its own table and queue prefixes so test classes never see each
/// other's data. Tests call it over HTTP on loopback; its queue and timer functions run as the host triggers them.
/// <see cref="Services"/> is the app's own composition over the same storage, for tests that read stores or call a
/// handler directly.
/// </summary>
public partial class LoyaltyApp : IAsyncLifetime
{
    public const string AdminKey = "test-admin-key-0123456789abcdef";
    public const string PhoneHashKey = "test-phone-hash-key-0123456789";

    /// <summary>
    /// How many apps run at once. xunit 2 starts every test class together and interleaves their awaits, so without a
    /// limit every class's app would be alive for the whole run, each polling its queues on the one shared Azurite;
    /// idle polling alone then kept Azurite's single Node.js thread busy and every request waited.
    /// <c>LOYALTY_TEST_APPS</c> overrides it.
    /// </summary>
    private static readonly int MaxRunning = int.TryParse(Environment.GetEnvironmentVariable("LOYALTY_TEST_APPS"), out var n) && n > 0 ? n : 6;

    private static readonly SemaphoreSlim Running = new(MaxRunning, MaxRunning);

    private readonly string _tablePrefix = "t" + Guid.NewGuid().ToString("N")[..10];
    private readonly string _queuePrefix = "q" + Guid.NewGuid().ToString("N")[..10] + "-";
    private readonly string _taskHub = "h" + Guid.NewGuid().ToString("N")[..10];
    private readonly Lazy<ServiceProvider> _services;
    private StorageFaultProxy? _proxy;
    private FunctionsHost? _host;
    private HostSettings? _hostSettings;
    private int _holding;

    public LoyaltyApp()
    {
        _services = new(BuildServices);
    }

    public AzuriteFixture Azurite { get; } = new();

    /// <summary>Faults injected into writes of the Members table when the app runs behind the fault proxy (off unless a test enables them).</summary>
    public FaultPlan Faults { get; } = new();

    /// <summary>The proxy in front of the Members table (to hold commits or count transactions); only with <see cref="FaultProxy"/>.</summary>
    public StorageFaultProxy MembersTable => _proxy ?? throw new InvalidOperationException("This app runs without the fault proxy.");

    public StorageNames Names => new(_tablePrefix, _queuePrefix);

    /// <summary>The app's services, composed in the test process over the same storage (not the worker's).</summary>
    public IServiceProvider Services => _services.Value;

    public TableStore Store => Services.GetRequiredService<TableStore>();

    /// <summary>The local host running the worker.</summary>
    public FunctionsHost Host => _host ?? throw new InvalidOperationException("The app's host is not running.");

    /// <summary>Whether the app's host is running (not stopped by <see cref="StopHostAsync"/>).</summary>
    public bool HostRunning => Volatile.Read(ref _host) is not null;

    /// <summary>The settings the app's host runs with (host.json and app settings), for a host started again or elsewhere.</summary>
    public HostSettings HostSettings => _hostSettings ?? throw new InvalidOperationException("The app has not started.");

    /// <summary>Stops the app's host (and its worker), keeping its storage and task hub.</summary>
    public async Task StopHostAsync()
    {
        if (Interlocked.Exchange(ref _host, null) is { } host)
        {
            await host.DisposeAsync();
        }
    }

    /// <summary>Starts the app's host again on the same storage and task hub (after <see cref="StopHostAsync"/>).</summary>
    public async Task StartHostAsync()
    {
        await StopHostAsync();
        _host = await FunctionsHost.StartAsync(HostSettings, Logging);
    }

    /// <summary>A Durable Task client of the app's task hub (through the host's gRPC endpoint, as [DurableClient] gets it).</summary>
    public Microsoft.DurableTask.Client.DurableTaskClient DurableClient()
    {
        var engine = Host.Durable ?? throw new InvalidOperationException("The app runs no durable task hub.");
        var options = new Microsoft.DurableTask.Client.Grpc.GrpcDurableTaskClientOptions { Channel = Grpc.Net.Client.GrpcChannel.ForAddress(engine.Address) };
        return new Microsoft.DurableTask.Client.Grpc.GrpcDurableTaskClient("tests", options, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
    }

    /// <summary>Whether the queue and timer functions run (switched off with AzureWebJobs.{name}.Disabled, as in Azure).</summary>
    protected virtual bool LocalTriggers => true;

    /// <summary>Whether the worker reaches the Members table through <see cref="StorageFaultProxy"/>.</summary>
    protected virtual bool FaultProxy => false;

    /// <summary>The worker's storage retries (Loyalty__StorageRetries): none behind the fault proxy unless a test wants the SDK's.</summary>
    protected virtual int StorageRetries => FaultProxy ? 0 : 3;

    /// <summary>
    /// Where the host writes the worker's and its own log: everything is kept (<see cref="LogLines"/>), warnings and
    /// errors also go to the console.
    /// </summary>
    protected virtual ILoggerFactory Logging => _logging ??= LoggerFactory.Create(b => b
        .AddProvider(new LogCapture(LogLines))
        .AddSimpleConsole()
        .AddFilter<Microsoft.Extensions.Logging.Console.ConsoleLoggerProvider>(level => level >= LogLevel.Warning)
        .AddFilter<Microsoft.Extensions.Logging.Console.ConsoleLoggerProvider>("Function", level => level >= LogLevel.Error)
        .SetMinimumLevel(LogLevel.Trace));

    /// <summary>Responses this app gave the tests that break docs/openapi.json (<see cref="OpenApiConformance"/>).</summary>
    public ConcurrentQueue<string> SchemaViolations { get; } = new();

    /// <summary>Every line the host and the worker logged while this app ran.</summary>
    public ConcurrentQueue<(string Category, LogLevel Level, string Text)> LogLines { get; } = new();

    /// <summary>Every phone number (<see cref="NewPhone"/>) and card number (<see cref="EnrolAsync"/>) the test run used.</summary>
    public static ConcurrentDictionary<string, byte> PersonalNumbers { get; } = new();

    private ILoggerFactory? _logging;

    /// <summary>The nodes of the org every test app starts with: HQ, regions east and south, stores sh-001 and hz-001 (east), gz-001 (south).</summary>
    public static object[] TestOrgNodes { get; } =
    [
        new { id = "hq", kind = "hq", name = "测试连锁" },
        new { id = "east", kind = "region", name = "East" },
        new { id = "south", kind = "region", name = "South" },
        new { id = "sh-001", kind = "store", name = "Shanghai 1", parentId = "east" },
        new { id = "hz-001", kind = "store", name = "Hangzhou 1", parentId = "east" },
        new { id = "gz-001", kind = "store", name = "Guangzhou 1", parentId = "south" },
    ];

    /// <summary>The org every test app starts with (the body of <c>PUT /api/config/org</c>).</summary>
    public static object TestOrg { get; } = new { nodes = TestOrgNodes };

    /// <summary>The app's build output, in the configuration these tests were built in.</summary>
    public static string AppDirectory
    {
        get
        {
            var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
            return Path.Combine(Path.GetDirectoryName(Hosting.OpenApiDocumentTests.FindRepoFile("LoyaltyFunctions.sln"))!, "src", "Loyalty.Functions", "bin", configuration, "net10.0");
        }
    }

    /// <summary>The app settings the worker gets (what local.settings.json or the Function App's settings hold).</summary>
    public virtual Dictionary<string, string> Settings(string storageConnection)
    {
        var settings = new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = Azurite.Server.ConnectionString,
            ["LoyaltyStorage"] = storageConnection,
            ["Loyalty__TablePrefix"] = _tablePrefix,
            ["Loyalty__QueuePrefix"] = _queuePrefix,
            ["Loyalty__TaskHub"] = _taskHub,

            // Each app has its own task hub, on two partitions (six apps poll Azurite at once).
            ["AzureFunctionsJobHost__extensions__durableTask__storageProvider__partitionCount"] = "2",
            ["Loyalty__PhoneHashKey"] = PhoneHashKey,
            ["Loyalty__OrderEventRetrySeconds"] = "1",

            // Webhook receivers of the tests listen on loopback, and a failed delivery is tried again within seconds.
            ["Loyalty__WebhookAllowLoopback"] = "true",
            ["Loyalty__WebhookRetrySchedule"] = "1s,1s,1s,1s,1s",
            ["Loyalty__StorageRetries"] = StorageRetries.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["LOYALTY_ADMIN_KEY"] = AdminKey,
        };
        return settings;
    }

    public virtual async Task InitializeAsync()
    {
        await Running.WaitAsync();
        _holding = 1;
        var connection = Azurite.Server.ConnectionString;
        if (FaultProxy)
        {
            _proxy = await StorageFaultProxy.StartAsync(Azurite.Tables.Uri, Names.Members, Faults);
            connection = _proxy.ConnectionString(connection);
        }

        var values = Settings(connection);

        // The hourly birthday timer would start today's instance whenever a run crosses minute 5, racing the tests that
        // start it themselves; they call its class directly instead.
        values["AzureWebJobs__StartBirthdayGifts__Disabled"] = "true";
        if (!LocalTriggers)
        {
            foreach (var function in System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(AppDirectory, "functions.metadata")))!.AsArray())
            {
                if (function!["bindings"]!.AsArray().Any(b => b!["type"]!.GetValue<string>() is "queueTrigger" or "timerTrigger"))
                {
                    values[$"AzureWebJobs__{function["name"]}__Disabled"] = "true";
                }
            }
        }

        // The repository's host.json with quick retries, so poison paths finish in seconds.
        var loaded = HostSettings.Load(AppDirectory, 0, overrides: values);
        var settings = new HostSettings
        {
            AppDirectory = loaded.AppDirectory,
            Port = 0,
            Values = loaded.Values,
            RoutePrefix = loaded.RoutePrefix,
            DurableTask = loaded.DurableTask,
            TimerZone = loaded.TimerZone,
            Queues = loaded.Queues with { VisibilityTimeout = TimeSpan.Zero, MaxDequeueCount = 3, MaxPollingInterval = TimeSpan.FromMilliseconds(200) },
        };
        _hostSettings = settings;
        _host = await FunctionsHost.StartAsync(settings, Logging);

        using var admin = Client(AdminKey);
        var response = await admin.PutAsJsonAsync("/api/config/org", TestOrg);
        response.EnsureSuccessStatusCode();
    }

    public virtual async Task DisposeAsync()
    {
        try
        {
            await StopHostAsync();
            if (_hostSettings is not null)
            {
                // The task hub's tables, queues and containers go too.
                await DurableEngine.DeleteTaskHubAsync(_hostSettings, Logging);
            }

            _logging?.Dispose();
            PersonalNumbersLogged = [.. LogLines.SelectMany(l => Digits().Matches(l.Text).SelectMany(m => Windows(m.Value))).Where(PersonalNumbers.ContainsKey).Distinct()];

            if (_proxy is not null)
            {
                await _proxy.DisposeAsync();
            }

            if (_services.IsValueCreated)
            {
                await _services.Value.DisposeAsync();
            }

            // The app's tables and queues go with it, so the shared Azurite does not carry every finished class's rows
            // and leftover messages (its queue store scans all messages of the account on every receive).
            await Task.WhenAll(Names.AllTables.Select(t => (Task)Azurite.Tables.DeleteTableAsync(t))
                .Concat(Names.AllQueues.SelectMany(q => new[] { q, StorageNames.Poison(q) }).Select(q => (Task)Azurite.Queues.DeleteQueueAsync(q))));
        }
        finally
        {
            if (Interlocked.Exchange(ref _holding, 0) == 1)
            {
                Running.Release();
            }
        }

        // operations.md promises that no whole phone or card number is logged, by any layer: every test class checks
        // the whole log of its run (the host's and the worker's) for the numbers the run used.
        if (PersonalNumbersLogged.Count > 0)
        {
            var lines = LogLines.Where(l => PersonalNumbersLogged.Any(n => l.Text.Contains(n, StringComparison.Ordinal))).Take(3).Select(l => $"[{l.Category}] {l.Text}");
            throw new InvalidOperationException($"{PersonalNumbersLogged.Count} phone or card numbers reached the log, e.g.:\n" + string.Join("\n", lines));
        }

        // Every response the class's tests received matches docs/openapi.json.
        if (!SchemaViolations.IsEmpty)
        {
            throw new InvalidOperationException("Responses that break docs/openapi.json:\n" + string.Join("\n", SchemaViolations.Distinct().Take(20)));
        }
    }

    // Every 11- to 19-digit stretch of a run of digits (a phone inside "+86...", a card number inside a longer run).
    private static IEnumerable<string> Windows(string digits) =>
        from length in Enumerable.Range(11, Math.Max(0, Math.Min(19, digits.Length) - 10))
        from start in Enumerable.Range(0, digits.Length - length + 1)
        select digits.Substring(start, length);

    public HttpClient Client(string? apiKey = null, Uri? baseAddress = null)
    {
        // Above the default 100 s: fifty concurrent requests on one member queue behind each other, and on a busy
        // machine that has taken longer than 100 s. A request that hangs still fails.
#pragma warning disable CA2000 // The client owns its handler.
        var transport = new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => System.Text.Encoding.UTF8 };
        var client = new HttpClient(new OpenApiConformance(SchemaViolations, transport)) { BaseAddress = baseAddress ?? Host.BaseAddress, Timeout = TimeSpan.FromMinutes(4) };
#pragma warning restore CA2000
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        }

        return client;
    }

    /// <summary>Creates a principal through the API as the admin; returns its key.</summary>
    public async Task<string> KeyForAsync(string role, string scopeId)
    {
        using var admin = Client(AdminKey);
        var response = await admin.PostAsJsonAsync("/api/principals", new { role, scopeId });
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return body.GetProperty("apiKey").GetString()!;
    }

    /// <summary>Enrols a member at <paramref name="storeId"/>; returns the member id and first card number.</summary>
    public async Task<(string MemberId, string CardNumber)> EnrolAsync(string storeId = "sh-001")
    {
        using var admin = Client(AdminKey);
        var body0 = new { phone = NewPhone(), name = "Test", storeId };
        var key = Guid.NewGuid().ToString();
        var response = await admin.EnrolAsync(body0, key);

        // A setup step, not the test: a storage hiccup (503, e.g. behind the fault proxy, whose apps run without SDK
        // retries) is retried as a client would, under the same Idempotency-Key.
        for (var attempt = 1; attempt < 3 && response.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable; attempt++)
        {
            response.Dispose();
            await Task.Delay(500 * attempt);
            response = await admin.EnrolAsync(body0, key);
        }

        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var card = body.GetProperty("cards")[0].GetProperty("cardNumber").GetString()!;
        PersonalNumbers.TryAdd(card, 0);
        return (body.GetProperty("memberId").GetString()!, card);
    }

    /// <summary>Sets a member's tier directly in storage (tier rules arrive with the programme issue).</summary>
    public async Task SetTierAsync(string memberId, string tier)
    {
        var row = await Store.Members.FindEntityAsync(memberId, Storage.Members.MemberStore.AccountRow(memberId)) ?? throw new InvalidOperationException("no account");
        row["Tier"] = tier;
        await Store.Members.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace);
    }

    /// <summary>A random, valid mainland mobile number.</summary>
    public static string NewPhone()
    {
        var phone = "139" + Random.Shared.NextInt64(0, 100_000_000).ToString("D8", System.Globalization.CultureInfo.InvariantCulture);
        PersonalNumbers.TryAdd(phone, 0);
        return phone;
    }

    /// <summary>Phone and card numbers of the run found in this app's log (set when it stops).</summary>
    public IReadOnlyList<string> PersonalNumbersLogged { get; private set; } = [];

    [System.Text.RegularExpressions.GeneratedRegex(@"\d{11,19}")]
    private static partial System.Text.RegularExpressions.Regex Digits();

    private ServiceProvider BuildServices()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(Settings(Azurite.Server.ConnectionString).Select(s => KeyValuePair.Create(s.Key.Replace("__", ":", StringComparison.Ordinal), (string?)s.Value)))
            .Build();
        var services = new ServiceCollection()
            .AddLogging(b => b.SetMinimumLevel(LogLevel.Warning))
            .AddSingleton<IConfiguration>(configuration)
            .AddLoyaltyOptions(configuration)
            .AddLoyaltyStorage(configuration)
            .AddLoyaltyFunctions();
        return services.BuildServiceProvider();
    }
}

/// <summary>The app behind the fault proxy, its queue and timer functions running.</summary>
public sealed class FaultedApp : LoyaltyApp
{
    protected override bool FaultProxy => true;
}

/// <summary>The worker's log lines, kept in memory as the local host receives them.</summary>
public sealed class LogCapture(ConcurrentQueue<(string Category, LogLevel Level, string Text)> lines) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, lines);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<(string, LogLevel, string)> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue((category, logLevel, formatter(state, exception) + exception));
    }
}
