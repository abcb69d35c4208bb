using System.Text.Json;
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
            .SelectMany(p => p.Value.EnumerateObject().Select(m => (Path: p.Name, Method: m.Name.ToUpperInvariant(), Id: m.Value.GetProperty("operationId").GetString())))
            .OrderBy(x => x.Id)
            .ToList();
        var declared = FunctionCatalog.Build(new StorageNames())
            .Where(f => f.Trigger is HttpTrigger)
            .Select(f => (Path: "/api/" + ((HttpTrigger)f.Trigger).Route, Method: ((HttpTrigger)f.Trigger).Methods[0], Id: (string?)f.Name))
            .OrderBy(x => x.Id)
            .ToList();

        Assert.Equal(declared, documented);
    }

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
