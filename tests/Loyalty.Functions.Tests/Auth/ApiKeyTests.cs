using Azure.Data.Tables;
using System.Net;
using System.Net.Http.Json;
using Loyalty.Functions.Tests.Support;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;
using Xunit;

namespace Loyalty.Functions.Tests.Auth;

public sealed class ApiKeyTests(LoyaltyApp app) : IClassFixture<LoyaltyApp>
{
    [Theory]
    [InlineData("GET", "/api/members/M0000000000000")]
    [InlineData("GET", "/api/members?phone=13900000000")]
    [InlineData("POST", "/api/members")]
    [InlineData("GET", "/api/config/org")]
    [InlineData("PUT", "/api/config/org")]
    [InlineData("POST", "/api/principals")]
    public async Task EveryRoute_WithoutKey_Returns401(string method, string url)
    {
        using var client = app.Client();
        var response = await client.SendAsync(Api.Json(new HttpMethod(method), url, "{}", "k"));
        await response.AssertProblemAsync(HttpStatusCode.Unauthorized, "api_key_missing");
    }

    [Fact]
    public async Task UnknownKey_Returns401()
    {
        using var client = app.Client("lk_not-a-key-that-exists");
        await (await client.GetAsync("/api/config/org")).AssertProblemAsync(HttpStatusCode.Unauthorized, "api_key_invalid");
    }

    [Fact]
    public async Task OverlongKey_Returns401()
    {
        using var client = app.Client(new string('k', 500));
        await (await client.GetAsync("/api/config/org")).AssertProblemAsync(HttpStatusCode.Unauthorized, "api_key_invalid");
    }

    [Fact]
    public async Task Terminal_CannotChangeTheOrgOrCreatePrincipals()
    {
        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));

        var org = await terminal.PutAsJsonAsync("/api/config/org", new { nodes = new[] { new { id = "hq", kind = "hq", name = "x" } } });
        var principal = await terminal.PostAsJsonAsync("/api/principals", new { role = "terminal", scopeId = "sh-001" });

        await org.AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden_role");
        await principal.AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden_role");
    }

    [Fact]
    public async Task Shop_CannotReadMembers()
    {
        using var shop = app.Client(await app.KeyForAsync("shop", "gz-001"));
        await (await shop.GetAsync("/api/members?phone=13900000000")).AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden_role");
    }

    [Fact]
    public async Task StoreManager_CreatesTerminalsForOwnStoreOnly()
    {
        using var manager = app.Client(await app.KeyForAsync("storeManager", "sh-001"));

        var own = await manager.PostAsJsonAsync("/api/principals", new { role = "terminal", scopeId = "sh-001" });
        var other = await manager.PostAsJsonAsync("/api/principals", new { role = "terminal", scopeId = "gz-001" });
        var manager2 = await manager.PostAsJsonAsync("/api/principals", new { role = "storeManager", scopeId = "sh-001" });

        Assert.Equal(HttpStatusCode.Created, own.StatusCode);
        await other.AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden_scope");
        await manager2.AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden_role");
    }

    [Fact]
    public async Task CreatedKey_WorksWithItsRoleAndScope()
    {
        using var regional = app.Client(await app.KeyForAsync("regionManager", "east"));
        var created = await (await regional.PostAsJsonAsync("/api/principals", new { role = "storeManager", scopeId = "hz-001", name = "Hangzhou manager" })).JsonAsync();
        using var storeManager = app.Client(created.GetProperty("apiKey").GetString());

        Assert.Equal("storeManager", created.GetProperty("role").GetString());
        Assert.Equal(HttpStatusCode.OK, (await storeManager.GetAsync("/api/config/org")).StatusCode);
        await (await storeManager.PostAsJsonAsync("/api/principals", new { role = "terminal", scopeId = "sh-001" })).AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden_scope");
    }

    [Theory]
    [InlineData("""{"role":"cashier","scopeId":"sh-001"}""", "role_invalid")]
    [InlineData("""{"role":"3","scopeId":"sh-001"}""", "role_invalid")]
    [InlineData("""{"scopeId":"sh-001"}""", "role_invalid")]
    [InlineData("""{"role":"terminal"}""", "scope_required")]
    [InlineData("""{"role":"terminal","scopeId":"east"}""", "scope_kind_mismatch")]
    [InlineData("""{"role":"terminal","scopeId":"nowhere"}""", "scope_unknown")]
    [InlineData("""{"role":"terminal","scopeId":"sh-001","apiKey":"mine"}""", "read_only_field")]
    public async Task CreatePrincipal_BadInput_Returns400(string body, string code)
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var response = await admin.SendAsync(Api.Json(HttpMethod.Post, "/api/principals", body));
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, code);
    }

    [Fact]
    public async Task Keys_AreStoredOnlyAsHashes()
    {
        var key = await app.KeyForAsync("terminal", "hz-001");
        var rows = new List<TableEntity>();
        await foreach (var row in app.Store.Principals.QueryAsync<TableEntity>((string?)null))
        {
            rows.Add(row);
        }

        Assert.Contains(rows, r => r.RowKey == Hashing.Sha256Hex(key));
        Assert.DoesNotContain(rows, r => r.RowKey == key || r.Values().Select(p => p.Value).OfType<string>().Any(v => v.Contains(key, StringComparison.Ordinal)));
        Assert.DoesNotContain(rows, r => r.Values().Select(p => p.Value).OfType<string>().Any(v => v.Contains(LoyaltyApp.AdminKey, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ListPrincipals_ShowsNoKeys()
    {
        await app.KeyForAsync("ops", "hq");
        using var admin = app.Client(LoyaltyApp.AdminKey);

        var text = await (await admin.GetAsync("/api/principals")).Content.ReadAsStringAsync();

        Assert.Contains("\"ops\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("apiKey", text, StringComparison.Ordinal);
    }
}
