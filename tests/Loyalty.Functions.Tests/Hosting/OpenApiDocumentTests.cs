using System.Text.Json;
using Microsoft.OpenApi.Extensions;
using Loyalty.Functions.Hosting;
using Loyalty.Storage.Schema;
using Xunit;

namespace Loyalty.Functions.Tests.Hosting;

public sealed class OpenApiDocumentTests
{
    [Fact]
    public void OpenApi_DescribesExactlyTheCataloguesHttpFunctions()
    {
        var path = FindRepoFile("docs/openapi.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var documented = doc.RootElement.GetProperty("paths").EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject().Select(m => (Path: Signature(p.Name), Method: m.Name.ToUpperInvariant(), Id: m.Value.GetProperty("operationId").GetString())))
            .OrderBy(x => x.Id)
            .ToList();
        var declared = Loyalty.Functions.Http.FallbackFunctions.HttpFunctions()
            .Where(f => f.Name != "NotServed")
            .Select(f => (Path: Signature("/api/" + f.Route), Method: f.Methods[0].ToUpperInvariant(), Id: (string?)f.Name))
            .OrderBy(x => x.Id)
            .ToList();

        Assert.Equal(declared, documented);
    }

    [Fact]
    public void OpenApi_IsAValidOpenApi30Document_ForAStandardReader()
    {
        using var stream = File.OpenRead(FindRepoFile("docs/openapi.json"));

        var document = new Microsoft.OpenApi.Readers.OpenApiStreamReader().Read(stream, out var diagnostic);
        var problems = document.Validate(Microsoft.OpenApi.Validations.ValidationRuleSet.GetDefaultRuleSet());

        Assert.Equal(Microsoft.OpenApi.OpenApiSpecVersion.OpenApi3_0, diagnostic.SpecificationVersion);
        var errors = diagnostic.Errors.Select(e => $"{e.Pointer}: {e.Message}").Concat(problems.Select(e => $"{e.Pointer}: {e.Message}")).ToList();
        Assert.True(errors.Count == 0, string.Join("\n", errors));
        Assert.Equal("integer", document.Components.Schemas["ScopeRateRequest"].Properties["pointsPerYuan"].Type);
        Assert.True(document.Components.Schemas["ScopeRateRequest"].Properties["pointsPerYuan"].Nullable);
    }

    // OpenAPI tells paths apart by their literal segments only ("/a/{x}" and "/a/{y}" are one path), and so does this.
    private static string Signature(string path) => System.Text.RegularExpressions.Regex.Replace(path, @"\{[^}]*\}", "{}");

    internal static string FindRepoFile(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relative);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException(relative);
    }
}
