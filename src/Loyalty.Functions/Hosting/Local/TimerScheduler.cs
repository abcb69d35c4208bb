using Loyalty.Functions.Hosting.Timers;

namespace Loyalty.Functions.Hosting.Local;

/// <summary>Local mode's timer trigger: fires a timer function at each occurrence of its NCRONTAB schedule (UTC).</summary>
internal sealed class TimerScheduler(
    FunctionDefinition function,
    TimerTrigger trigger,
    TimeProvider time,
    IServiceScopeFactory scopes,
    ILogger<TimerScheduler> logger) : BackgroundService
{
    private static readonly TimeSpan LateAfter = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var schedule = CronSchedule.Parse(trigger.Schedule);
        var next = schedule.GetNextOccurrence(time.GetUtcNow());
        while (next is { } due && !stoppingToken.IsCancellationRequested)
        {
            var wait = due - time.GetUtcNow();
            try
            {
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, time, stoppingToken);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await FireAsync(due, stoppingToken);
            next = schedule.GetNextOccurrence(due);
        }
    }

    internal async Task FireAsync(DateTimeOffset due, CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var handler = (ITimerFunction)scope.ServiceProvider.GetRequiredService((Type)function.Handler);
            await handler.RunAsync(new TimerInvocation(due, time.GetUtcNow() - due > LateAfter), cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down.
        }
        catch (Exception ex)
        {
            // Like the host: a failed occurrence is logged, and the schedule goes on.
            logger.LogError(ex, "Timer function {Function} failed for {Due}", function.Name, due);
        }
    }
}
