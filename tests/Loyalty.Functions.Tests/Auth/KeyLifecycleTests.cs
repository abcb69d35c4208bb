using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Data.Tables;
using Loyalty.Functions.Admin;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Tests.Support;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit;

namespace Loyalty.Functions.Tests.Auth;

/// <summary>API keys end: HQ revokes them, they expire, and the admin key of a new run replaces the old one.</summary>
public sealed class KeyLifecycleTests(LoyaltyApp app) : IClassFixture<LoyaltyApp>
{
    [Fact]
    public async Task Revoke_TheKeyIsRefused_LeavesTheList_AndIsAudited()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (principalId, key) = await CreateAsync(admin, new { role = "terminal", scopeId = "sh-001" });
        using var terminal = app.Client(key);
        Assert.Equal(HttpStatusCode.OK, (await terminal.GetAsync("/api/config/org")).StatusCode);

        var revoked = await admin.PostOkAsync($"/api/principals/{principalId}/revoke", new { });

        Assert.Equal(1, revoked.GetProperty("revokedKeys").GetInt32());
        await (await terminal.GetAsync("/api/config/org")).AssertProblemAsync(HttpStatusCode.Unauthorized, "api_key_invalid");
        Assert.DoesNotContain(principalId, await ListedAsync(admin));
        await (await admin.PostAsync($"/api/principals/{principalId}/revoke", new { }, null)).AssertProblemAsync(HttpStatusCode.NotFound, "principal_not_found");
        var audit = new List<TableEntity>();
        await foreach (var row in app.Store.Audit.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"Target eq {principalId}")))
        {
            audit.Add(row);
        }

        Assert.Contains(audit, r => r.GetString("Action") == "principal.revoke");
    }

    [Fact]
    public async Task Revoke_ByAStoreManager_403_TheAdminKey_409()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        using var manager = app.Client(await app.KeyForAsync("storeManager", "sh-001"));
        var (principalId, _) = await CreateAsync(admin, new { role = "terminal", scopeId = "sh-001" });

        await (await manager.PostAsync($"/api/principals/{principalId}/revoke", new { }, null)).AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden_role");
        await (await admin.PostAsync($"/api/principals/{Bootstrap.AdminPrincipalId}/revoke", new { }, null)).AssertProblemAsync(HttpStatusCode.Conflict, "principal_is_bootstrap");
    }

    [Fact]
    public async Task Expiry_InThePastIsRefused_AnExpiredKeyIsRefused()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        await (await admin.PostAsync("/api/principals", new { role = "terminal", scopeId = "sh-001", expiresAt = DateTimeOffset.UtcNow.AddMinutes(-1) }, null))
            .AssertProblemAsync(HttpStatusCode.BadRequest, "expires_invalid");
        var (principalId, key) = await CreateAsync(admin, new { role = "terminal", scopeId = "sh-001", expiresAt = DateTimeOffset.UtcNow.AddHours(1) });
        Assert.Contains(principalId, await ListedAsync(admin));

        // An hour passes (the row is moved instead of the clock; the key was never looked up, so nothing is cached).
        var row = (await app.Store.Principals.FindEntityAsync("key", Hashing.Sha256Hex(key)))!;
        row["ExpiresAt"] = DateTimeOffset.UtcNow.AddSeconds(-1);
        await app.Store.Principals.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace);

        using var terminal = app.Client(key);
        await (await terminal.GetAsync("/api/config/org")).AssertProblemAsync(HttpStatusCode.Unauthorized, "api_key_invalid");
        Assert.DoesNotContain(principalId, await ListedAsync(admin));
    }

    [Fact]
    public async Task Start_WithANewAdminKey_RetiresTheEarlierOne_AndAdminIsListedOnce()
    {
        // An earlier run registered another admin key.
        const string earlierKey = "an-earlier-runs-admin-key-0123456789";
        var earlier = new TableEntity("key", Hashing.Sha256Hex(earlierKey))
        {
            ["PrincipalId"] = Bootstrap.AdminPrincipalId, ["Role"] = "HqAdmin", ["ScopeId"] = "hq", ["CreatedBy"] = "bootstrap", ["CreatedAt"] = DateTimeOffset.UtcNow,
        };
        await app.Store.Principals.UpsertEntityAsync(earlier, TableUpdateMode.Replace);

        var bootstrap = ActivatorUtilities.CreateInstance<Bootstrap>(app.Services, Options.Create(app.Services.GetRequiredService<IOptions<LoyaltyOptions>>().Value));
        await bootstrap.StartAsync(CancellationToken.None);
        await bootstrap.ExecuteTask!;

        using var old = app.Client(earlierKey);
        using var admin = app.Client(LoyaltyApp.AdminKey);
        await (await old.GetAsync("/api/config/org")).AssertProblemAsync(HttpStatusCode.Unauthorized, "api_key_invalid");
        Assert.Single(await ListedAsync(admin), id => id == Bootstrap.AdminPrincipalId);
    }

    private static async Task<(string PrincipalId, string Key)> CreateAsync(HttpClient admin, object body)
    {
        var response = await admin.PostAsJsonAsync("/api/principals", body);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (created.GetProperty("principalId").GetString()!, created.GetProperty("apiKey").GetString()!);
    }

    private static async Task<List<string>> ListedAsync(HttpClient admin) =>
        [.. (await admin.GetJsonAsync("/api/principals")).GetProperty("items").EnumerateArray().Select(p => p.GetProperty("principalId").GetString()!)];
}
