using System.Net;
using Loyalty.Functions.Tests.Support;
using Xunit;

namespace Loyalty.Functions.Tests.Hosting;

public sealed class LocalModeTests(LoyaltyApp app) : IClassFixture<LoyaltyApp>
{
    [Fact]
    public async Task InvocationRoutes_AreNotExposedInLocalMode()
    {
        using var client = app.Client();
        var response = await client.PostAsync("/WelcomeNewMember", new StringContent("{}"));
        await response.AssertProblemAsync(HttpStatusCode.NotFound, "route_not_found");
    }

    [Fact]
    public async Task Health_IsAnonymousAndReportsLocalMode()
    {
        using var client = app.Client();
        var body = await (await client.GetAsync("/api/health")).JsonAsync();
        Assert.Equal("healthy", body.GetProperty("status").GetString());
        Assert.Equal("local", body.GetProperty("mode").GetString());
    }
}
