using Loyalty.Storage.Schema;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Hosting.Local;

/// <summary>
/// In local mode, runs one <see cref="QueueListener"/> per queue function and one <see cref="TimerScheduler"/> per
/// timer function of the catalogue. In Azure mode it does nothing: the host triggers them.
/// </summary>
internal sealed class LocalTriggers(IServiceProvider services, IOptions<LoyaltyOptions> options) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.HostingMode != HostingMode.Local || !options.Value.EnableLocalTriggers)
        {
            return;
        }

        // Queues exist only once start-up has created them.
        await services.GetRequiredService<Admin.BootstrapGate>().Ready.WaitAsync(stoppingToken);

        var host = services.GetRequiredService<HostJson>();
        var store = services.GetRequiredService<TableStore>();
        var scopes = services.GetRequiredService<IServiceScopeFactory>();
        var loggers = services.GetRequiredService<ILoggerFactory>();
        var time = services.GetRequiredService<TimeProvider>();
        var runners = new List<BackgroundService>();
        foreach (var function in services.GetRequiredService<IEnumerable<FunctionDefinition>>())
        {
            switch (function.Trigger)
            {
                case QueueTrigger queue:
                    runners.Add(new QueueListener(function, queue, host, store, scopes, loggers.CreateLogger<QueueListener>()));
                    break;
                case ServiceBusTrigger bus:
                    runners.Add(new QueueListener(function, new QueueTrigger(bus.LocalQueueName, bus.Connection), host, store, scopes, loggers.CreateLogger<QueueListener>()));
                    break;
                case TimerTrigger timer:
                    runners.Add(new TimerScheduler(function, timer, time, scopes, loggers.CreateLogger<TimerScheduler>()));
                    break;
                default:
                    break;
            }
        }

        await Task.WhenAll(runners.Select(async r =>
        {
            await r.StartAsync(stoppingToken);
            try
            {
                await Task.Delay(Timeout.Infinite, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                await r.StopAsync(CancellationToken.None);
                r.Dispose();
            }
        }));
    }
}
