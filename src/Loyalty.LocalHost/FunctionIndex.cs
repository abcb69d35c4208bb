using System.Text.Json.Nodes;
using Microsoft.Azure.WebJobs.Script.Grpc.Messages;

namespace Loyalty.LocalHost;

/// <summary>One binding of a function, as the worker declared it (functions.metadata's JSON, raw).</summary>
/// <param name="Name">Parameter name (<c>$return</c> for the return value).</param>
/// <param name="Type">Binding type: httpTrigger, queueTrigger, timerTrigger, queue, http, ...</param>
/// <param name="Direction">in, out or inout.</param>
/// <param name="Json">The whole binding object, for its type-specific properties.</param>
public sealed record Binding(string Name, string Type, string Direction, JsonObject Json)
{
    /// <summary>A string property of the binding (route, queueName, connection, schedule, ...), or null.</summary>
    public string? Property(string name) =>
        Json.FirstOrDefault(p => string.Equals(p.Key, name, StringComparison.OrdinalIgnoreCase)).Value is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    /// <summary>A boolean property, or false.</summary>
    public bool Flag(string name) =>
        Json.FirstOrDefault(p => string.Equals(p.Key, name, StringComparison.OrdinalIgnoreCase)).Value is JsonValue v && v.TryGetValue<bool>(out var b) && b;

    /// <summary>True for the function's trigger.</summary>
    public bool IsTrigger => Type.EndsWith("Trigger", StringComparison.OrdinalIgnoreCase);

    internal static Binding Parse(string raw)
    {
        var json = JsonNode.Parse(raw) as JsonObject ?? throw new InvalidDataException("A binding is not a JSON object: " + raw);
        string Text(string key) => json.FirstOrDefault(p => string.Equals(p.Key, key, StringComparison.OrdinalIgnoreCase)).Value?.ToString() ?? string.Empty;
        return new Binding(Text("name"), Text("type"), Text("direction").ToLowerInvariant(), json);
    }

    internal BindingInfo ToBindingInfo()
    {
        var info = new BindingInfo
        {
            Type = Type,
            Direction = Direction switch { "out" => BindingInfo.Types.Direction.Out, "inout" => BindingInfo.Types.Direction.Inout, _ => BindingInfo.Types.Direction.In },
            DataType = (Property("dataType") ?? string.Empty).ToLowerInvariant() switch
            {
                "string" => BindingInfo.Types.DataType.String,
                "binary" => BindingInfo.Types.DataType.Binary,
                "stream" => BindingInfo.Types.DataType.Stream,
                _ => BindingInfo.Types.DataType.Undefined,
            },
        };
        return info;
    }
}

/// <summary>A function the worker indexed: its id, name and bindings.</summary>
public sealed record FunctionDescriptor(string FunctionId, string Name, IReadOnlyList<Binding> Bindings, RpcFunctionMetadata Metadata)
{
    /// <summary>The trigger binding.</summary>
    public Binding Trigger => Bindings.FirstOrDefault(b => b.IsTrigger) ?? throw new InvalidDataException($"Function {Name} has no trigger.");

    /// <summary>Output bindings other than an HTTP response.</summary>
    public IEnumerable<Binding> Outputs => Bindings.Where(b => b.Direction == "out" && !string.Equals(b.Type, "http", StringComparison.OrdinalIgnoreCase));

    internal static FunctionDescriptor From(RpcFunctionMetadata metadata)
    {
        var id = string.IsNullOrEmpty(metadata.FunctionId) ? Guid.NewGuid().ToString() : metadata.FunctionId;
        var bindings = metadata.RawBindings.Select(Binding.Parse).ToList();
        return new FunctionDescriptor(id, metadata.Name, bindings, metadata);
    }

    /// <summary>The load request for this function: the metadata with the raw bindings turned into structured ones.</summary>
    internal FunctionLoadRequest LoadRequest()
    {
        var metadata = Metadata.Clone();
        metadata.FunctionId = FunctionId;
        metadata.Bindings.Clear();
        foreach (var binding in Bindings)
        {
            metadata.Bindings[binding.Name] = binding.ToBindingInfo();
        }

        return new FunctionLoadRequest { FunctionId = FunctionId, Metadata = metadata };
    }
}
