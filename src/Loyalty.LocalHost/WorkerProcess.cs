using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Loyalty.LocalHost;

/// <summary>
/// The worker process, launched as the Functions host launches it: the executable and entry assembly from
/// worker.config.json, the gRPC address on the command line, the app settings as environment variables. Its output
/// goes to the host's log; the last lines of its error output are kept to say why it died.
/// </summary>
public sealed class WorkerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ILogger _logger;
    private readonly Queue<string> _lastErrors = new();
    private Process? _guard;

    private WorkerProcess(Process process, ILogger logger)
    {
        _process = process;
        _logger = logger;
    }

    /// <summary>Completes when the process has exited.</summary>
    public Task Exited { get; private set; } = Task.CompletedTask;

    /// <summary>The exit code, once exited.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>The process id.</summary>
    public int Id => _process.Id;

    /// <summary>Why it ended: exit code and its last error lines.</summary>
    public string ExitReason
    {
        get
        {
            lock (_lastErrors)
            {
                var tail = _lastErrors.Count == 0 ? "no error output" : "last error output:\n  " + string.Join("\n  ", _lastErrors);
                return $"the worker exited with code {_process.ExitCode}; {tail}";
            }
        }
    }

    /// <summary>Starts the worker of the app in <paramref name="settings"/> against the host's gRPC endpoint.</summary>
    public static WorkerProcess Start(HostSettings settings, Uri grpcUri, string workerId, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(grpcUri);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(settings.AppDirectory, "worker.config.json")))?["description"];
        var executable = config?["defaultExecutablePath"]?.GetValue<string>() ?? "dotnet";
        var entry = config?["defaultWorkerPath"]?.GetValue<string>() ?? throw new InvalidDataException("worker.config.json names no defaultWorkerPath.");
        var start = new ProcessStartInfo(executable)
        {
            WorkingDirectory = settings.AppDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            Path.Combine(settings.AppDirectory, entry),
            "--functions-uri", grpcUri.ToString(),
            "--functions-worker-id", workerId,
            "--functions-request-id", Guid.NewGuid().ToString(),
            "--functions-grpc-max-message-length", int.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture),
        })
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in settings.Values)
        {
            start.Environment[key] = value;
        }

        start.Environment["FUNCTIONS_WORKER_RUNTIME"] = "dotnet-isolated";
        start.Environment["FUNCTIONS_APPLICATION_DIRECTORY"] = settings.AppDirectory;
        start.Environment["AzureWebJobsScriptRoot"] = settings.AppDirectory;
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var worker = new WorkerProcess(process, logger);
        process.OutputDataReceived += (_, e) => worker.Output(e.Data, error: false);
        process.ErrorDataReceived += (_, e) => worker.Output(e.Data, error: true);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        worker._guard = OrphanGuard.Watch(process);
        worker.Exited = process.WaitForExitAsync();
        return worker;
    }

    /// <summary>Stops the worker: waits up to <paramref name="grace"/> for it to exit (after WorkerTerminate), then kills it.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (_process.HasExited)
        {
            return;
        }

        try
        {
            await Exited.WaitAsync(grace);
        }
        catch (TimeoutException)
        {
            _process.Kill(entireProcessTree: true);
            await Exited;
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.Zero);
        OrphanGuard.Release(_guard);
        _guard = null;
        _process.Dispose();
    }

    private void Output(string? line, bool error)
    {
        if (string.IsNullOrEmpty(line))
        {
            return;
        }

        if (error)
        {
            lock (_lastErrors)
            {
                _lastErrors.Enqueue(line);
                if (_lastErrors.Count > 20)
                {
                    _lastErrors.Dequeue();
                }
            }

            _logger.LogWarning("[worker] {Line}", line);
        }
        else
        {
            _logger.LogDebug("[worker] {Line}", line);
        }
    }
}
