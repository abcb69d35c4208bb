using System.Diagnostics;
using Xunit;

namespace Loyalty.Functions.Tests.Hosting;

/// <summary>A wrong setting stops the app at start with one line naming the setting, and a non-zero exit code.</summary>
public sealed class StartupSettingsTests
{
    private const string Azurite =
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
        "TableEndpoint=http://127.0.0.1:9/devstoreaccount1;QueueEndpoint=http://127.0.0.1:9/devstoreaccount1;";

    [Theory]
    [InlineData("LoyaltyStorage", "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=not*base64!;TableEndpoint=http://127.0.0.1:9/devstoreaccount1;QueueEndpoint=http://127.0.0.1:9/devstoreaccount1;")]
    [InlineData("LOYALTY_ADMIN_KEY", "too-short")]
    [InlineData("Loyalty__PhoneHashKey", "")]
    public async Task BadSetting_OneLineNamesIt_AndTheExitCodeIsNotZero(string setting, string value)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Directory.CreateTempSubdirectory("startup").FullName };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Loyalty.Functions.dll"));
        start.Environment["LoyaltyStorage"] = Azurite;
        start.Environment["Loyalty__PhoneHashKey"] = "a-phone-hash-key-of-enough-length";
        start.Environment["LOYALTY_ADMIN_KEY"] = "an-admin-key-of-enough-length-0123";
        start.Environment["LOYALTY_PORT"] = "9";
        start.Environment[setting] = value;

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
        var lines = ((await output) + (await errors)).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(2, process.ExitCode);
        var line = Assert.Single(lines, l => l.Contains("cannot start", StringComparison.Ordinal));
        Assert.Contains(setting, line, StringComparison.Ordinal);
        Assert.DoesNotContain(lines, l => l.TrimStart().StartsWith("at ", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("Unhandled exception", StringComparison.Ordinal));
    }
}
