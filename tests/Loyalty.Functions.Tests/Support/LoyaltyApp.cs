using Azure.Storage.Queues;
using Azure.Data.Tables;
using System.Net.Http.Json;
using System.Text.Json;
using Loyalty.Functions.Hosting;
using Loyalty.Storage.Schema;
using Loyalty.Testing;
using Loyalty.Storage.Queues;
using Loyalty.Storage.Tables;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Loyalty.Functions.Tests.Support;

/// <summary>
/// The function app in-process on the shared Azurite, with its own table and queue prefixes so test classes never
/// see each other's data. Local mode with its queue listeners running, unless a subclass says otherwise.
/// </summary>
public class LoyaltyApp : WebApplicationFactory<Program>, IAsyncLifetime
{
    public const string AdminKey = "test-admin-key-0123456789abcdef";
    public const string PhoneHashKey = "test-phone-hash-key-0123456789";

    private readonly string _tablePrefix = "t" + Guid.NewGuid().ToString("N")[..10];
    private readonly string _queuePrefix = "q" + Guid.NewGuid().ToString("N")[..10] + "-";

    public AzuriteFixture Azurite { get; } = new();

    /// <summary>host.json of the tests: the repository's, with quick retries so poison paths finish in seconds.</summary>
    private static readonly Lazy<string> TestHostJson = new(() =>
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Hosting.OpenApiDocumentTests.FindRepoFile("host.json")))!;
        var queues = node["extensions"]!["queues"]!;
        queues["visibilityTimeout"] = "00:00:00";
        queues["maxDequeueCount"] = 3;
        queues["maxPollingInterval"] = "00:00:00.200";
        var path = Path.Combine(Path.GetTempPath(), $"loyalty-test-host-{Environment.ProcessId}.json");
        File.WriteAllText(path, node.ToJsonString());
        return path;
    });

    public LoyaltyApp()
    {
        Faults = new FaultPlan();
        MembersTable = new FaultInjectionPolicy(Faults);
    }

    protected virtual HostingMode Mode => HostingMode.Local;

    /// <summary>Where the Members table's fault policy sits: ahead of the SDK's retries (the default) or behind them.</summary>
    protected virtual Azure.Core.HttpPipelinePosition FaultPosition => Azure.Core.HttpPipelinePosition.PerCall;

    protected virtual bool LocalTriggers => true;

    /// <summary>Faults injected into writes of the Members table (off unless a test enables them).</summary>
    public FaultPlan Faults { get; }

    /// <summary>The policy in the Members table client's pipeline (to hold commits or count transactions).</summary>
    public FaultInjectionPolicy MembersTable { get; }

    public StorageNames Names => new(_tablePrefix, _queuePrefix);

    public TableStore Store => Services.GetRequiredService<TableStore>();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.UseSetting("LoyaltyStorage", Azurite.Server.ConnectionString);
        builder.UseSetting("Loyalty:TablePrefix", _tablePrefix);
        builder.UseSetting("Loyalty:QueuePrefix", _queuePrefix);
        builder.UseSetting("Loyalty:PhoneHashKey", PhoneHashKey);
        builder.UseSetting("Loyalty:HostingMode", Mode.ToString());
        builder.UseSetting("Loyalty:EnableLocalTriggers", LocalTriggers.ToString());
        builder.UseSetting("LOYALTY_ADMIN_KEY", AdminKey);
        builder.UseSetting("Loyalty:OrderEventRetrySeconds", "1");
        builder.UseSetting("Loyalty:HostJsonPath", TestHostJson.Value);
        builder.ConfigureTestServices(services => services.AddSingleton(sp =>
        {
            var tables = sp.GetRequiredService<TableServiceClient>();
            var queues = sp.GetRequiredService<QueueServiceClient>();
            var names = Names;

            // The Members table gets its own client whose pipeline injects the plan's faults.
            return new TableStore(
                names,
                name => name == names.Members ? Azurite.TableWith(name, MembersTable, FaultPosition) : tables.GetTableClient(name),
                queues.GetQueueClient);
        }));
    }

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

    /// <summary>
    /// How many apps run at once. xunit 2 starts every test class together and interleaves their awaits, so without a
    /// limit every class's app would be alive for the whole run, each polling its ten queues on the one shared
    /// Azurite; idle polling alone then kept Azurite's single Node.js thread busy and every request waited.
    /// <c>LOYALTY_TEST_APPS</c> overrides it.
    /// </summary>
    private static readonly int MaxRunning = int.TryParse(Environment.GetEnvironmentVariable("LOYALTY_TEST_APPS"), out var n) && n > 0 ? n : 6;

    private static readonly SemaphoreSlim Running = new(MaxRunning, MaxRunning);
    private int _holding;

    public virtual async Task InitializeAsync()
    {
        await Running.WaitAsync();
        _holding = 1;

        // Starting the server runs the bootstrap (tables, queues, HQ, admin key).
        _ = Server;
        using var admin = Client(AdminKey);
        var response = await admin.PutAsJsonAsync("/api/config/org", TestOrg);
        response.EnsureSuccessStatusCode();
    }

    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();

    public override async ValueTask DisposeAsync()
    {
        try
        {
            // The app's tables and queues go with it, so the shared Azurite does not carry every finished class's rows
            // and leftover messages (its queue store scans all messages of the account on every receive).
            var queues = Volatile.Read(ref _holding) == 1
                ? Admin.Bootstrap.Queues(Services.GetRequiredService<IEnumerable<FunctionDefinition>>(), Names).Distinct().SelectMany(q => new[] { q, StorageNames.Poison(q) }).ToList()
                : [];
            await base.DisposeAsync();
            await Task.WhenAll(Names.AllTables.Select(t => (Task)Azurite.Tables.DeleteTableAsync(t))
                .Concat(queues.Select(q => (Task)Azurite.Queues.DeleteQueueAsync(q))));
        }
        finally
        {
            if (Interlocked.Exchange(ref _holding, 0) == 1)
            {
                Running.Release();
            }
        }

        GC.SuppressFinalize(this);
    }

    public HttpClient Client(string? apiKey = null)
    {
        var client = CreateClient();

        // Above the default 100 s: fifty concurrent requests on one member queue behind each other, and on a busy
        // machine that has taken longer than 100 s. A request that hangs still fails.
        client.Timeout = TimeSpan.FromMinutes(4);
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
        var response = await admin.EnrolAsync(new { phone = NewPhone(), name = "Test", storeId }, Guid.NewGuid().ToString());
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (body.GetProperty("memberId").GetString()!, body.GetProperty("cards")[0].GetProperty("cardNumber").GetString()!);
    }

    /// <summary>Sets a member's tier directly in storage (tier rules arrive with the programme issue).</summary>
    public async Task SetTierAsync(string memberId, string tier)
    {
        var row = await Store.Members.FindEntityAsync(memberId, "account") ?? throw new InvalidOperationException("no account");
        row["Tier"] = tier;
        await Store.Members.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace);
    }

    /// <summary>A random, valid mainland mobile number.</summary>
    public static string NewPhone() => "139" + Random.Shared.NextInt64(0, 100_000_000).ToString("D8", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>The app as the Functions host runs it: custom-handler invocations mapped, no local triggers.</summary>
public sealed class AzureModeApp : LoyaltyApp
{
    protected override HostingMode Mode => HostingMode.Azure;
}
