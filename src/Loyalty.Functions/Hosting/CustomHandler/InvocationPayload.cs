using System.Globalization;
using System.Text.Json;

namespace Loyalty.Functions.Hosting.CustomHandler;

/// <summary>
/// Reads the Functions host's invocation request (<c>{"Data":{..},"Metadata":{..}}</c>). Trigger data that is a
/// string arrives JSON-encoded, sometimes twice; it is decoded while it is still a JSON string.
/// </summary>
internal static class InvocationPayload
{
    public static QueueInvocation ReadQueue(JsonElement root, string bindingName)
    {
        var data = root.GetProperty("Data").GetProperty(bindingName);
        var body = Unwrap(data);
        var metadata = root.TryGetProperty("Metadata", out var m) ? m : default;
        return new QueueInvocation(
            body,
            MetadataString(metadata, "Id") ?? MetadataString(metadata, "MessageId") ?? string.Empty,
            // Storage queues say DequeueCount; Service Bus says DeliveryCount.
            long.TryParse(MetadataString(metadata, "DequeueCount") ?? MetadataString(metadata, "DeliveryCount"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var count) ? count : 1,
            DateTimeOffset.TryParse(MetadataString(metadata, "InsertionTime") ?? MetadataString(metadata, "EnqueuedTimeUtc"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var inserted) ? inserted : null);
    }

    public static TimerInvocation ReadTimer(JsonElement root, string bindingName, DateTimeOffset now)
    {
        var pastDue = false;
        if (root.TryGetProperty("Data", out var data) && data.TryGetProperty(bindingName, out var timer))
        {
            var t = timer.ValueKind == JsonValueKind.String ? JsonDocument.Parse(Unwrap(timer)).RootElement : timer;
            pastDue = t.ValueKind == JsonValueKind.Object && t.TryGetProperty("IsPastDue", out var p) && p.ValueKind == JsonValueKind.True;
        }

        return new TimerInvocation(now, pastDue);
    }

    /// <summary>Decodes a string value until it is no longer a JSON string literal.</summary>
    public static string Unwrap(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            return value.GetRawText();
        }

        var text = value.GetString()!;
        for (var depth = 0; depth < 4; depth++)
        {
            var trimmed = text.TrimStart();
            if (!trimmed.StartsWith('"'))
            {
                break;
            }

            try
            {
                using var doc = JsonDocument.Parse(trimmed);
                if (doc.RootElement.ValueKind != JsonValueKind.String)
                {
                    break;
                }

                text = doc.RootElement.GetString()!;
            }
            catch (JsonException)
            {
                break;
            }
        }

        return text;
    }

    private static string? MetadataString(JsonElement metadata, string name)
    {
        if (metadata.ValueKind != JsonValueKind.Object || !metadata.TryGetProperty(name, out var value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.String => Unwrap(value),
            JsonValueKind.Number => value.GetRawText(),
            _ => null,
        };
    }
}
