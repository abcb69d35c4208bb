using System.Globalization;
using System.Runtime.InteropServices;
using Loyalty.LocalHost;

// The local Functions host: `Loyalty.LocalHost [--app DIR] [--port N] [--settings local.settings.json]`.
// DIR is the app's build or publish output (functions.metadata, worker.config.json, host.json); the current folder by
// default. It exits 0 on Ctrl-C or SIGTERM (stopping the worker), and 1 with the reason if the worker dies (or the
// Durable Task provider cannot start).
string? Arg(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
var port = int.Parse(Arg("--port") ?? Environment.GetEnvironmentVariable("FUNCTIONS_HTTPWORKER_PORT") ?? "7071", CultureInfo.InvariantCulture);
using var loggerFactory = LoggerFactory.Create(b => b
    .AddSimpleConsole(o => o.SingleLine = true)
    .AddFilter("Microsoft.AspNetCore", LogLevel.Warning)
    .AddFilter("Microsoft.Hosting", LogLevel.Warning)
    .AddFilter("Grpc", LogLevel.Warning)
    .SetMinimumLevel(Enum.TryParse<LogLevel>(Environment.GetEnvironmentVariable("LOCALHOST_LOG_LEVEL"), out var level) ? level : LogLevel.Information));
var logger = loggerFactory.CreateLogger("Loyalty.LocalHost");
FunctionsHost host;
try
{
    var settings = HostSettings.Load(Arg("--app") ?? Directory.GetCurrentDirectory(), port, Arg("--settings"));
    host = await FunctionsHost.StartAsync(settings, loggerFactory);
}
catch (Exception ex) when (ex is InvalidOperationException or IOException or InvalidDataException or TimeoutException or OperationCanceledException)
{
    logger.LogCritical("The host could not start: {Reason}", ex.Message);
    return 1;
}

Console.WriteLine("Functions:");
foreach (var function in host.Functions.OrderBy(f => f.Name, StringComparer.Ordinal))
{
    var trigger = function.Trigger;
    var detail = trigger.Type.ToUpperInvariant() switch
    {
        "HTTPTRIGGER" => new Uri(host.BaseAddress, host.Routes.Single(r => r.Function == function).Template).ToString(),
        "QUEUETRIGGER" => "queue " + trigger.Property("queueName"),
        "TIMERTRIGGER" => "timer " + trigger.Property("schedule"),
        _ => trigger.Type,
    };
    Console.WriteLine($"  {function.Name}: {detail}");
}

var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.TrySetResult(); });
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.TrySetResult(); });
var ended = await Task.WhenAny(stop.Task, host.Failed);
await host.DisposeAsync();
if (ended == host.Failed)
{
    logger.LogCritical("Stopping: {Reason}", await host.Failed);
    return 1;
}

return 0;
