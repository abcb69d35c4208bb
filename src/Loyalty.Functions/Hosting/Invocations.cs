using System.Globalization;
using System.Text.Json;
using Microsoft.Azure.Functions.Worker;

namespace Loyalty.Functions.Hosting;

/// <summary>A queue message handed to a function.</summary>
/// <param name="Body">Message text (decoded).</param>
/// <param name="MessageId">Queue message id.</param>
/// <param name="DequeueCount">Deliveries so far, this one included.</param>
/// <param name="InsertionTime">When it was enqueued.</param>
public sealed record QueueInvocation(string Body, string MessageId, long DequeueCount, DateTimeOffset? InsertionTime)
{
    /// <summary>The message and the trigger metadata the host passes with it (<c>Id</c>, <c>DequeueCount</c>, <c>InsertionTime</c>).</summary>
    public static QueueInvocation From(string body, FunctionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var data = context.BindingContext.BindingData;
        return new QueueInvocation(body, Text(data, "Id") ?? string.Empty, long.TryParse(Text(data, "DequeueCount"), CultureInfo.InvariantCulture, out var count) ? count : 1, DateTimeOffset.TryParse(Text(data, "InsertionTime"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null);
    }

    // The worker hands trigger metadata over as strings, JSON text (a quoted date, a number) or converted values.
    private static string? Text(IReadOnlyDictionary<string, object?> data, string name) =>
        data.TryGetValue(name, out var value) ? value switch
        {
            null => null,
            string s when s.StartsWith('"') => JsonSerializer.Deserialize<string>(s),
            string s => s,
            JsonElement { ValueKind: JsonValueKind.String } e => e.GetString(),
            JsonElement e => e.GetRawText(),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            var other => other.ToString(),
        } : null;
}

/// <summary>A timer firing.</summary>
/// <param name="ScheduledAt">When it fired.</param>
/// <param name="IsPastDue">True when it fires late (e.g. after a restart).</param>
public sealed record TimerInvocation(DateTimeOffset ScheduledAt, bool IsPastDue);

/// <summary>A queue-triggered function's work. Throwing fails the invocation: it is retried and finally poisoned.</summary>
public interface IQueueFunction
{
    /// <summary>Handles one message; must be idempotent (delivery is at least once).</summary>
    Task RunAsync(QueueInvocation invocation, CancellationToken cancellationToken);
}

/// <summary>A timer-triggered function's work.</summary>
public interface ITimerFunction
{
    /// <summary>Runs once per occurrence.</summary>
    Task RunAsync(TimerInvocation invocation, CancellationToken cancellationToken);
}
