using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Loyalty.Functions.Tests.Support;
using Loyalty.Storage.Audit;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Loyalty.Functions.Tests.Org;

public sealed class OrgApiTests(LoyaltyApp app) : IClassFixture<LoyaltyApp>
{
    private static readonly object[] BaseNodes = LoyaltyApp.TestOrgNodes;

    [Fact]
    public async Task Put_ValidTree_IsReadBackWithNewVersionAndAudited()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var before = await (await admin.GetAsync("/api/config/org")).JsonAsync();

        var put = await admin.PutAsJsonAsync("/api/config/org", new { nodes = BaseNodes.Append(new { id = "sz-001", kind = "store", name = "深圳一店", parentId = "south" }) });
        var after = await (await admin.GetAsync("/api/config/org")).JsonAsync();

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.True(after.GetProperty("version").GetInt64() > before.GetProperty("version").GetInt64());
        Assert.Contains(after.GetProperty("nodes").EnumerateArray(), n => n.GetProperty("id").GetString() == "sz-001" && n.GetProperty("parentId").GetString() == "south");
        var audit = await app.Services.GetRequiredService<AuditLog>().ReadMonthAsync(DateTimeOffset.UtcNow);
        Assert.Contains(audit, a => a.Action == "org.replace" && a.Actor == "admin" && a.After!.Contains("sz-001", StringComparison.Ordinal));
        await admin.PutAsJsonAsync("/api/config/org", new { nodes = BaseNodes });
    }

    public static TheoryData<string, string> BadTrees => new()
    {
        { """{"nodes":[]}""", "org_nodes_required" },
        { """{}""", "org_nodes_required" },
        { """{"nodes":[{"id":"hq","kind":"hq","name":"HQ"},{"id":"x","kind":"depot","name":"X"}]}""", "org_kind_invalid" },
        { """{"nodes":[{"id":"hq","kind":"hq","name":"HQ"},{"id":"s","kind":"store","name":"S","parentId":"hq"}]}""", "org_parent_invalid" },
        { """{"nodes":[{"id":"hq","kind":"hq","name":"HQ"},{"id":"r","kind":"region","name":"R"},{"id":"r","kind":"region","name":"R2"}]}""", "org_duplicate_id" },
        { """{"nodes":[{"id":"head","kind":"hq","name":"HQ"}]}""", "org_hq_id_fixed" },
        { """{"nodes":[{"id":"hq","kind":"hq","name":"HQ"}],"version":3}""", "read_only_field" },
    };

    [Theory]
    [MemberData(nameof(BadTrees))]
    public async Task Put_BadTree_Returns400AndKeepsTheTree(string body, string code)
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var before = (await (await admin.GetAsync("/api/config/org")).JsonAsync()).GetRawText();

        var response = await admin.SendAsync(Api.Json(HttpMethod.Put, "/api/config/org", body));

        await response.AssertProblemAsync(HttpStatusCode.BadRequest, code);
        Assert.Equal(before, (await (await admin.GetAsync("/api/config/org")).JsonAsync()).GetRawText());
    }

    [Fact]
    public async Task Put_StaleIfMatch_Returns412()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var request = Api.Json(HttpMethod.Put, "/api/config/org", JsonSerializer.Serialize(new { nodes = BaseNodes }));
        request.Headers.TryAddWithoutValidation("If-Match", "\"1\"");

        await (await admin.SendAsync(request)).AssertProblemAsync(HttpStatusCode.PreconditionFailed, "org_version_conflict");
    }

    [Fact]
    public async Task Put_CurrentIfMatch_Succeeds()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var current = await admin.GetAsync("/api/config/org");
        var request = Api.Json(HttpMethod.Put, "/api/config/org", JsonSerializer.Serialize(new { nodes = BaseNodes }));
        request.Headers.TryAddWithoutValidation("If-Match", current.Headers.ETag!.Tag);

        Assert.Equal(HttpStatusCode.OK, (await admin.SendAsync(request)).StatusCode);
    }

    [Fact]
    public async Task Get_AnyStaffRole_CanRead()
    {
        using var terminal = app.Client(await app.KeyForAsync("terminal", "gz-001"));
        var org = await (await terminal.GetAsync("/api/config/org")).JsonAsync();
        Assert.Contains(org.GetProperty("nodes").EnumerateArray(), n => n.GetProperty("id").GetString() == "gz-001");
    }
}
