using Loyalty.Functions.Tests.Support;
using Xunit;

namespace Loyalty.Functions.Tests.Hosting;

/// <summary>The response check every test client runs (<see cref="OpenApiConformance"/>) finds what breaks the document.</summary>
public sealed class OpenApiConformanceTests
{
    [Theory]
    [InlineData("GET", "/api/members/M0000000000AA", 200, "{\"memberId\":5}", "$.memberId: a Number, documented as string")]
    [InlineData("GET", "/api/members/M0000000000AA", 200, "{\"memberId\":\"M1\",\"balances\":null}", "$.balances: null, but not nullable")]
    [InlineData("GET", "/api/members/M0000000000AA", 200, "{\"memberId\":\"M1\",\"tier\":\"gold\",\"cards\":[{\"cardNumber\":\"1\",\"status\":\"melted\"}]}", "'melted' is not one of the documented values")]
    [InlineData("GET", "/api/members/M0000000000AA", 418, "{}", "status 418 is not documented")]
    [InlineData("PATCH", "/api/members/M0000000000AA", 200, "{}", "no documented operation")]
    [InlineData("POST", "/api/members", 400, "{\"type\":\"urn:loyalty:problem:x\",\"status\":\"400\"}", "$.status: a String, documented as integer")]
    public void Check_FindsWhatBreaksTheDocument(string method, string path, int status, string body, string expected)
    {
        var violations = OpenApiConformance.Check(method, path, status, "application/json", body).ToList();

        Assert.Contains(violations, v => v.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Check_AConformingBody_HasNoViolation()
    {
        var body = "{\"type\":\"urn:loyalty:problem:member_not_found\",\"title\":\"Member not found\",\"status\":404,\"detail\":\"No member.\",\"code\":\"member_not_found\"}";

        Assert.Empty(OpenApiConformance.Check("GET", "/api/members/M0000000000AA", 404, "application/problem+json", body));
    }
}
