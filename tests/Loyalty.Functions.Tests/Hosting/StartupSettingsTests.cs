using Loyalty.Functions.Tests.Support;
using Loyalty.LocalHost;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Loyalty.Functions.Tests.Hosting;

/// <summary>
/// A wrong setting stops the worker at start with one line naming the setting, and a non-zero exit code, which the
/// host (here the local host, as Azure's would) reports as the reason it could not start.
/// </summary>
public sealed class StartupSettingsTests
{
    private const string Azurite =
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
        "TableEndpoint=http://127.0.0.1:9/devstoreaccount1;QueueEndpoint=http://127.0.0.1:9/devstoreaccount1;";

    [Theory]
    [InlineData("LoyaltyStorage", "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=not*base64!;TableEndpoint=http://127.0.0.1:9/devstoreaccount1;QueueEndpoint=http://127.0.0.1:9/devstoreaccount1;")]
    [InlineData("LOYALTY_ADMIN_KEY", "too-short")]
    [InlineData("Loyalty__PhoneHashKey", "")]
    [InlineData("Loyalty__StorageRetries", "eleven")]
    [InlineData("Loyalty__BatchBacklogLimit", "50")]
    public async Task BadSetting_OneLineNamesIt_AndTheExitCodeIsNotZero(string setting, string value)
    {
        var values = new Dictionary<string, string>
        {
            ["LoyaltyStorage"] = Azurite,
            ["AzureWebJobsStorage"] = Azurite,
            ["Loyalty__PhoneHashKey"] = "a-phone-hash-key-of-enough-length",
            ["LOYALTY_ADMIN_KEY"] = "an-admin-key-of-enough-length-0123",
            [setting] = value,
        };

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => FunctionsHost.StartAsync(HostSettings.Load(LoyaltyApp.AppDirectory, 0, overrides: values), NullLoggerFactory.Instance, TimeSpan.FromMinutes(1)));
        var lines = failure.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Contains("exited with code 2", failure.Message, StringComparison.Ordinal);
        var line = Assert.Single(lines, l => l.Contains("cannot start", StringComparison.Ordinal));
        Assert.Contains(setting, line, StringComparison.Ordinal);
        Assert.DoesNotContain(lines, l => l.TrimStart().StartsWith("at ", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("Unhandled exception", StringComparison.Ordinal));
    }
}
