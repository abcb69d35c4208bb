using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Loyalty.Testing;
using Xunit;

namespace Loyalty.LocalHost.Tests;

/// <summary>The host as run-local runs it: its own process, stopped by a signal, and loud when the worker dies.</summary>
public sealed class CommandLineTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Sigterm_StopsTheWorker_AndExitsZero()
    {
        using var host = await StartAsync();

        var workerPid = WorkerOf(host.Process);
        await Process.Start("kill", ["-TERM", host.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]).WaitForExitAsync();
        await Task.WhenAny(host.Process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(120)));

        // Its last lines say which step of the stop took the time ("Stopped: listeners …, durable …").
        Assert.True(host.Process.HasExited, "the host did not stop within 120 s (each step of its stop is bounded):\n" + string.Join('\n', host.Output.TakeLast(60)));
        Assert.True(host.Process.ExitCode == 0, $"the host exited with code {host.Process.ExitCode}:\n" + string.Join('\n', host.Output.TakeLast(60)));
        Assert.Contains(host.Output, l => l.Contains("Stopped: listeners", StringComparison.Ordinal));
        Assert.Throws<ArgumentException>(() => Process.GetProcessById(workerPid));
    }

    [Fact]
    public async Task WorkerDies_TheHostPrintsWhy_AndExitsNonZero()
    {
        using var host = await StartAsync();

        using (var worker = Process.GetProcessById(WorkerOf(host.Process)))
        {
            worker.Kill();
        }

        await Task.WhenAny(host.Process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(30)));

        // On a failure its last lines say what the host did instead (a crash prints the unhandled exception).
        Assert.True(host.Process.HasExited, "the host did not stop within 30 s of its worker's death:\n" + string.Join('\n', host.Output.TakeLast(60)));
        Assert.True(host.Process.ExitCode == 1, $"the host exited with code {host.Process.ExitCode}:\n" + string.Join('\n', host.Output.TakeLast(60)));
        Assert.Contains(host.Output, l => l.Contains("the worker exited with code 137", StringComparison.Ordinal));
    }

    [Fact]
    public async Task HostKilled_TheWorkerDoesNotOutliveIt()
    {
        using var host = await StartAsync();
        var workerPid = WorkerOf(host.Process);

        host.Process.Kill();
        await host.Process.WaitForExitAsync();
        var until = DateTime.UtcNow.AddSeconds(15);
        while (IsRunning(workerPid) && DateTime.UtcNow < until)
        {
            await Task.Delay(200);
        }

        Assert.False(IsRunning(workerPid), $"worker {workerPid} outlived its host");
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

    private async Task<RunningHost> StartAsync()
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, "Loyalty.LocalHost.dll"), "--app", SampleHost.AppDirectory, "--port", FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in SampleHost.Settings(azurite, "c" + Guid.NewGuid().ToString("N")[..8]))
        {
            start.Environment[key] = value;
        }

        var host = new RunningHost(Process.Start(start)!);
        var until = DateTime.UtcNow.AddMinutes(1);
        while (!host.Output.Any(l => l.StartsWith("Functions:", StringComparison.Ordinal)))
        {
            Assert.False(host.Process.HasExited, "the host stopped: " + string.Join('\n', host.Output));
            Assert.True(DateTime.UtcNow < until, "the host did not start: " + string.Join('\n', host.Output));
            await Task.Delay(100);
        }

        return host;
    }

    private static int WorkerOf(Process host)
    {
        // The worker is the host's child (beside the shell that guards it).
        foreach (var stat in Directory.GetDirectories("/proc").Select(d => Path.Combine(d, "stat")).Where(File.Exists))
        {
            string text;
            try
            {
                text = File.ReadAllText(stat);
            }
            catch (IOException)
            {
                continue;
            }

            var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
            var name = text[(text.IndexOf('(') + 1)..text.LastIndexOf(')')];
            if (int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture) == host.Id && name != "sh")
            {
                return int.Parse(Path.GetFileName(Path.GetDirectoryName(stat)!), System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException("The host has no child process.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class RunningHost : IDisposable
    {
        public RunningHost(Process process)
        {
            Process = process;
            process.OutputDataReceived += (_, e) => Add(e.Data);
            process.ErrorDataReceived += (_, e) => Add(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public Process Process { get; }

        public List<string> Output
        {
            get
            {
                lock (_lines)
                {
                    return [.. _lines];
                }
            }
        }

        private readonly List<string> _lines = [];

        public void Dispose()
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
            }

            Process.Dispose();
        }

        private void Add(string? line)
        {
            if (line is not null)
            {
                lock (_lines)
                {
                    _lines.Add(line);
                }
            }
        }
    }
}
