using System.Diagnostics;
using System.Text.RegularExpressions;
using Loyalty.Functions.Tests.Hosting;
using Loyalty.Functions.Tests.Support;

namespace Loyalty.Functions.Tests.Docs;

/// <summary>
/// The app holding the demo chain a reader's app has: after the usual start, scripts/seed-demo-data.sh itself runs
/// against it (bash and curl, as run-local.sh runs it), so the data cannot drift from the script.
/// </summary>
public sealed partial class DemoChainApp : LoyaltyApp
{
    /// <summary>The terminal key of store sh-001 the script printed (what run-local.sh shows as the terminal key).</summary>
    public string TerminalKey { get; private set; } = "";

    /// <summary>The app's address as the examples' <c>{{base}}</c>: no trailing slash.</summary>
    public string BaseUrl => Host.BaseAddress.ToString().TrimEnd('/');

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var script = OpenApiDocumentTests.FindRepoFile("scripts/seed-demo-data.sh");
        foreach (Match phone in ScriptPhone().Matches(await File.ReadAllTextAsync(script)))
        {
            PersonalNumbers.TryAdd(phone.Groups["phone"].Value, 0);
        }

        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(script)!,
        };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(BaseUrl);
        start.ArgumentList.Add(AdminKey);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("bash did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("seed-demo-data.sh did not finish within 3 minutes.");
        }

        // The script reports a member it could not enrol on stderr and carries on; on a new chain nothing may fail.
        var log = await errors;
        TerminalKey = (await output).Trim();
        if (process.ExitCode != 0 || TerminalKey.Length == 0 || log.Contains("failed", StringComparison.Ordinal) || log.Contains("exists already", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"seed-demo-data.sh exited with {process.ExitCode}, printing '{TerminalKey}':\n{log}");
        }
    }

    [GeneratedRegex("\"phone\":\"(?<phone>[0-9]{11})\"")]
    private static partial Regex ScriptPhone();
}
