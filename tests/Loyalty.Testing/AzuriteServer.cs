using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Loyalty.Testing;

/// <summary>
/// One Azurite process per test run, started on first use on free loopback ports with in-memory persistence and
/// stopped when the test process exits. Tests isolate themselves with unique table and queue names.
/// </summary>
public sealed class AzuriteServer : IDisposable
{
    private static readonly Lazy<AzuriteServer> Shared = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);
    private readonly Process _process;

    private AzuriteServer(Process process, int blobPort, int queuePort, int tablePort)
    {
        _process = process;
        QueuePort = queuePort;
        TablePort = tablePort;
        ConnectionString =
            $"DefaultEndpointsProtocol=http;AccountName={DevelopmentAccountName};AccountKey={DevelopmentAccountKey};" +
            $"BlobEndpoint=http://127.0.0.1:{blobPort}/{DevelopmentAccountName};" +
            $"TableEndpoint=http://127.0.0.1:{tablePort}/{DevelopmentAccountName};QueueEndpoint=http://127.0.0.1:{queuePort}/{DevelopmentAccountName};";
    }

    /// <summary>The running server (started on first access).</summary>
    public static AzuriteServer Instance => Shared.Value;

    /// <summary>Queue service port.</summary>
    public int QueuePort { get; }

    /// <summary>Table service port.</summary>
    public int TablePort { get; }

    /// <summary>Azurite's well-known development account name.</summary>
    public const string DevelopmentAccountName = "devstoreaccount1";

    /// <summary>Azurite's well-known development key (public, in every Azurite document).</summary>
    public const string DevelopmentAccountKey =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    /// <summary>A connection string for the app's settings.</summary>
    public string ConnectionString { get; }

    /// <summary>A unique, valid table or queue name for one test.</summary>
    public static string UniqueName(string prefix) => (prefix + Guid.NewGuid().ToString("N"))[..Math.Min(prefix.Length + 20, 60)].ToLowerInvariant();

    private static AzuriteServer Start()
    {
        var executable = FindAzurite();
        var queuePort = FreePort();
        var tablePort = FreePort();
        var blobPort = FreePort();
        var info = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
                 {
                     "--silent", "--inMemoryPersistence", "--skipApiVersionCheck", "--disableProductStyleUrl",
                     "--blobHost", "127.0.0.1", "--queueHost", "127.0.0.1", "--tableHost", "127.0.0.1",
                     "--blobPort", blobPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "--queuePort", queuePort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "--tablePort", tablePort.ToString(System.Globalization.CultureInfo.InvariantCulture),

                     // Node closes a connection idle for 5 s by default, while .NET pools one for 60 s: a request sent
                     // as the server closes its connection is lost unanswered, which an app running without the SDK's
                     // retries (the fault-proxy tests) reports as storage unavailable. Kept open longer, the client
                     // always closes first.
                     "--blobKeepAliveTimeout", "120", "--queueKeepAliveTimeout", "120", "--tableKeepAliveTimeout", "120",
                 })
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("Azurite did not start.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new AzuriteServer(process, blobPort, queuePort, tablePort);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Dispose();

        // The test runner may end this process without running ProcessExit (it did, and Azurite outlived the run):
        // a shell beside Azurite kills it once this process is gone.
        var guard = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "-c", "while kill -0 \"$1\" 2>/dev/null; do sleep 1; done; kill -9 \"$2\" 2>/dev/null", "azurite-guard", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            guard.ArgumentList.Add(arg);
        }

        Process.Start(guard)?.Dispose();
        WaitForPort(tablePort, process);
        WaitForPort(queuePort, process);
        return server;
    }

    private static string FindAzurite()
    {
        var fromEnv = Environment.GetEnvironmentVariable("AZURITE_BIN");
        if (!string.IsNullOrEmpty(fromEnv) && File.Exists(fromEnv))
        {
            return fromEnv;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, ".tools", "azurite", "node_modules", ".bin", "azurite");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator)
            .Select(p => Path.Combine(p, "azurite"))
            .FirstOrDefault(File.Exists);
        return onPath ?? throw new InvalidOperationException(
            "Azurite not found: run scripts/install.sh (it installs Azurite into .tools/azurite) or set AZURITE_BIN.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void WaitForPort(int port, Process process)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"Azurite exited with code {process.ExitCode} during start-up.");
            }

            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(100);
            }
        }

        throw new TimeoutException($"Azurite did not listen on port {port} within 30 s.");
    }

    /// <summary>Stops the process.</summary>
    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _process.Dispose();
    }
}
