using System.Globalization;
using System.Text.Json;
using Microsoft.Azure.WebJobs.Script.Grpc.Messages;
using NCrontab;

namespace Loyalty.LocalHost;

/// <summary>
/// A timer trigger: an NCRONTAB schedule (six fields with seconds, or five) or a fixed interval (<c>hh:mm:ss</c>),
/// evaluated in <see cref="HostSettings.TimerZone"/> (UTC unless <c>WEBSITE_TIME_ZONE</c> or <c>TZ</c> says
/// otherwise), with <c>runOnStartup</c>. Occurrences missed while the host was down are not made up: the host keeps no
/// schedule status between runs, so <c>IsPastDue</c> is always false here.
/// </summary>
public sealed class TimerTriggerListener(FunctionDescriptor function, HostSettings settings, WorkerChannel channel, QueueClients queues, TimeProvider time, ILogger logger)
{
    /// <summary>The next occurrence strictly after <paramref name="after"/>.</summary>
    public static DateTimeOffset Next(string schedule, DateTimeOffset after, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(zone);
        if (TimeSpan.TryParseExact(schedule, @"hh\:mm\:ss", CultureInfo.InvariantCulture, out var interval) ||
            TimeSpan.TryParseExact(schedule, @"d\.hh\:mm\:ss", CultureInfo.InvariantCulture, out interval))
        {
            return after + interval;
        }

        var fields = schedule.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        var cron = CrontabSchedule.Parse(schedule, new CrontabSchedule.ParseOptions { IncludingSeconds = fields == 6 });
        var local = TimeZoneInfo.ConvertTime(after, zone).DateTime;
        var next = cron.GetNextOccurrence(local);

        // A local time that does not exist (spring forward) runs at the first instant after the gap.
        while (zone.IsInvalidTime(next))
        {
            next = next.AddMinutes(1);
        }

        return new DateTimeOffset(next, zone.GetUtcOffset(next));
    }

    /// <summary>Fires the function at each occurrence until <paramref name="stoppingToken"/> is cancelled.</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var schedule = function.Trigger.Property("schedule") ?? throw new InvalidDataException($"{function.Name} has no schedule.");
        DateTimeOffset? last = null;
        if (function.Trigger.Flag("runOnStartup"))
        {
            await FireAsync(schedule, last, stoppingToken);
            last = time.GetUtcNow();
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            var due = Next(schedule, time.GetUtcNow(), settings.TimerZone);
            try
            {
                var wait = due - time.GetUtcNow();
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, time, stoppingToken);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await FireAsync(schedule, last, stoppingToken);
            last = due;
        }
    }

    private async Task FireAsync(string schedule, DateTimeOffset? last, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var timerInfo = new
        {
            Schedule = new { AdjustForDST = true },
            ScheduleStatus = new { Last = last ?? DateTimeOffset.MinValue, Next = Next(schedule, now, settings.TimerZone), LastUpdated = now },
            IsPastDue = false,
        };
        var request = new InvocationRequest { InvocationId = Guid.NewGuid().ToString(), FunctionId = function.FunctionId };
        request.InputData.Add(new ParameterBinding { Name = function.Trigger.Name, Data = new TypedData { Json = JsonSerializer.Serialize(timerInfo) } });
        try
        {
            var response = await channel.InvokeAsync(request, cancellationToken);
            if (response.Result.Status != StatusResult.Types.Status.Success)
            {
                logger.LogError("{Function} failed: {Error}", function.Name, response.Result.Exception?.Message);
                return;
            }

            await OutputBindings.WriteAsync(function, response, queues, settings, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
        catch (Exception ex) when (ex is IOException or Azure.RequestFailedException or InvalidOperationException)
        {
            logger.LogError("{Function} could not run: {Error}", function.Name, ex.Message);
        }
    }
}
