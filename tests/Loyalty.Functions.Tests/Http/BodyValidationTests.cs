using System.Net;
using System.Reflection;
using System.Text.Json;
using Loyalty.Functions.Tests.Hosting;
using Loyalty.Functions.Tests.Support;
using Xunit;

namespace Loyalty.Functions.Tests.Http;

/// <summary>Bodies are refused with the documented code and the field, before anything is written.</summary>
public sealed class BodyValidationTests(LoyaltyApp app) : IClassFixture<LoyaltyApp>
{
    [Theory]
    [InlineData("/top-ups", """{"amount":1000,"storeId":"sh-001","channel":"cash-in-hand"}""", "channel_invalid", "channel")]
    [InlineData("/cards", """{"cardType":"gold-card"}""", "card_type_invalid", "cardType")]
    public async Task UnknownEnumValue_AnswersTheFieldsCode_NotMalformedJson(string path, string body, string code, string field)
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (memberId, _) = await app.EnrolAsync();

        var response = await admin.SendAsync(Api.Json(HttpMethod.Post, $"/api/members/{memberId}{path}", body, Guid.NewGuid().ToString()));

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, code);
        Assert.Equal(field, problem.GetProperty("field").GetString());
        Assert.Equal(0, await admin.LedgerCountAsync(memberId));
    }

    [Theory]
    [InlineData("net")]
    [InlineData("memberDiscount")]
    [InlineData("gross")]
    [InlineData("couponDiscount")]
    public async Task SaleLine_WithAServerOwnedField_IsRefused_AsAtTheTopLevel(string owned)
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (memberId, _) = await app.EnrolAsync();
        var body = $$"""{"saleId":"S-{{Guid.NewGuid():N}}","storeId":"sh-001","memberId":"{{memberId}}","lines":[{"sku":"A","category":"food","quantity":1,"unitPrice":1000},{"sku":"B","category":"food","quantity":1,"unitPrice":500,"{{owned}}":1}]}""";

        var response = await admin.SendAsync(Api.Json(HttpMethod.Post, "/api/sales", body, Guid.NewGuid().ToString()));
        var topLevel = await admin.SendAsync(Api.Json(HttpMethod.Post, "/api/sales", body.Replace("\"lines\"", $"\"{owned}\":1,\"lines\"", StringComparison.Ordinal), Guid.NewGuid().ToString()));

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, "read_only_field");
        Assert.Equal($"lines[1].{owned}", problem.GetProperty("field").GetString());
        await topLevel.AssertProblemAsync(HttpStatusCode.BadRequest, "read_only_field");
        Assert.Equal(0, await admin.LedgerCountAsync(memberId));
    }

    [Fact]
    public void EveryEnumInARequestBody_HasItsCodeDocumented()
    {
        var documented = File.ReadAllText(OpenApiDocumentTests.FindRepoFile("docs/api.md"));

        // The body types are the ones the handlers read: JsonBody.ReadAsync<T> and MemberOperation.PrepareAsync<T>.
        var sources = Directory.EnumerateFiles(Path.GetDirectoryName(OpenApiDocumentTests.FindRepoFile("src/Loyalty.Functions/Program.cs"))!, "*.cs", SearchOption.AllDirectories)
            .SelectMany(f => System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(f), @"(?:ReadAsync|PrepareAsync)<(\w+Request)>").Select(m => m.Groups[1].Value))
            .ToHashSet(StringComparer.Ordinal);
        var bodies = typeof(Loyalty.Functions.Http.HttpGuard).Assembly.GetTypes().Where(t => sources.Contains(t.Name)).ToList();
        var enums = bodies.SelectMany(t => EnumProperties(t, 0)).Distinct().ToList();

        Assert.True(bodies.Count >= 15, $"found only {bodies.Count} body types");

        Assert.Contains("channel", enums);
        Assert.Contains("cardType", enums);
        Assert.All(enums, field => Assert.Contains($"`{JsonNamingPolicy.SnakeCaseLower.ConvertName(field)}_invalid`", documented, StringComparison.Ordinal));
    }

    private static IEnumerable<string> EnumProperties(Type type, int depth)
    {
        if (depth > 3)
        {
            yield break;
        }

        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            var element = propertyType.IsGenericType && propertyType.GetGenericArguments() is [var arg] ? Nullable.GetUnderlyingType(arg) ?? arg : propertyType;
            if (element.IsEnum)
            {
                yield return JsonNamingPolicy.CamelCase.ConvertName(property.Name);
            }
            else if (element.IsClass && element != typeof(string) && element.Namespace?.StartsWith("Loyalty", StringComparison.Ordinal) == true)
            {
                foreach (var inner in EnumProperties(element, depth + 1))
                {
                    yield return inner;
                }
            }
        }
    }
}
