using System.Text.Json;
using Microsoft.Azure.WebJobs.Script.Grpc.Messages;

namespace Loyalty.LocalHost;

/// <summary>Writes what a function returned for its queue output bindings, as the host's queue extension does.</summary>
public static class OutputBindings
{
    /// <summary>Sends each queue output's value (one message, or one per element of a collection or JSON array).</summary>
    public static async Task WriteAsync(FunctionDescriptor function, InvocationResponse response, QueueClients queues, HostSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(function);
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(queues);
        ArgumentNullException.ThrowIfNull(settings);
        foreach (var output in function.Outputs.Where(o => string.Equals(o.Type, "queue", StringComparison.OrdinalIgnoreCase)))
        {
            var data = output.Name == "$return" ? response.ReturnValue : response.OutputData.FirstOrDefault(d => d.Name == output.Name)?.Data;
            var messages = Messages(data).ToList();
            if (messages.Count == 0)
            {
                continue;
            }

            var queue = queues.Get(output.Property("connection"), settings.Resolve(output.Property("queueName") ?? throw new InvalidDataException($"{function.Name}'s output {output.Name} names no queue.")));
            await queue.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
            foreach (var message in messages)
            {
                await queue.SendMessageAsync(message, cancellationToken);
            }
        }
    }

    internal static IEnumerable<string> Messages(TypedData? data)
    {
        switch (data?.DataCase)
        {
            case TypedData.DataOneofCase.String:
                yield return data.String;
                break;
            case TypedData.DataOneofCase.Bytes:
                yield return data.Bytes.ToStringUtf8();
                break;
            case TypedData.DataOneofCase.CollectionString:
                foreach (var item in data.CollectionString.String)
                {
                    yield return item;
                }

                break;
            case TypedData.DataOneofCase.Json:
                using (var document = JsonDocument.Parse(data.Json))
                {
                    var root = document.RootElement;
                    if (root.ValueKind == JsonValueKind.Null)
                    {
                        yield break;
                    }

                    var items = root.ValueKind == JsonValueKind.Array ? root.EnumerateArray().ToList() : [root];
                    foreach (var item in items)
                    {
                        yield return item.ValueKind == JsonValueKind.String ? item.GetString()! : item.GetRawText();
                    }
                }

                break;
            default:
                break;
        }
    }
}
