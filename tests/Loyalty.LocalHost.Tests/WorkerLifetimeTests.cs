using System.Diagnostics;
using Loyalty.Testing;
using Xunit;

namespace Loyalty.LocalHost.Tests;

/// <summary>Each test starts its own host: they end the worker.</summary>
public sealed class WorkerLifetimeTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task WorkerDies_TheHostSaysWhy()
    {
        await using var host = await StartAsync();
        using (var worker = Process.GetProcessById(host.WorkerProcessId))
        {
            worker.Kill();
        }

        var reason = await host.Failed.WaitAsync(TimeSpan.FromSeconds(30));

        // 137: killed by SIGKILL.
        Assert.Contains("the worker exited with code 137", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stop_EndsTheWorkerProcess()
    {
        var host = await StartAsync();
        var pid = host.WorkerProcessId;

        await host.DisposeAsync();

        Assert.False(IsRunning(pid), $"worker {pid} still runs");
        Assert.False(host.Failed.IsCompleted, "a requested stop is not reported as a death");
    }

    [Fact]
    public async Task Start_AppFolderWithoutMetadata_RefusesWithTheReason()
    {
        var empty = Directory.CreateTempSubdirectory("no-app").FullName;

        var ex = Assert.Throws<InvalidOperationException>(() => HostSettings.Load(empty, 0));

        Assert.Contains("functions.metadata", ex.Message, StringComparison.Ordinal);
    }

    private Task<FunctionsHost> StartAsync()
    {
        var prefix = "w" + Guid.NewGuid().ToString("N")[..8];
        return FunctionsHost.StartAsync(HostSettings.Load(SampleHost.AppDirectory, 0, overrides: SampleHost.Settings(azurite, prefix)), SampleHost.Logging);
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
