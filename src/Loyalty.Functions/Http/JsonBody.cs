using System.Text.Json;
using Loyalty.Domain.Common;

namespace Loyalty.Functions.Http;

/// <summary>A request body read within the size limit: the raw bytes (for idempotency hashing) and the typed value.</summary>
internal sealed record JsonBody<T>(T Value, byte[] Raw);

/// <summary>
/// Reads JSON request bodies strictly: JSON content type, a size bound, well-formed JSON, no fields the server owns,
/// no unknown fields. Each failure is a distinct problem code and happens before anything is written.
/// </summary>
internal static class JsonBody
{
    public static async Task<(JsonBody<T>? Body, IResult? Problem)> ReadAsync<T>(
        HttpRequest request,
        int maxBytes,
        IReadOnlyCollection<string> serverOwned,
        CancellationToken cancellationToken)
        where T : class
    {
        var (raw, problem) = await ReadElementAsync(request, maxBytes, cancellationToken);
        if (problem is not null)
        {
            return (null, problem);
        }

        var (element, bytes) = raw!.Value;
        var known = JsonDefaults.Options.GetTypeInfo(typeof(T)).Properties.Select(p => p.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var property in element.EnumerateObject())
        {
            if (serverOwned.Contains(property.Name, StringComparer.OrdinalIgnoreCase))
            {
                return (null, Problems.From(DomainError.Invalid("read_only_field", property.Name, $"'{property.Name}' is set by the server and cannot be sent.")));
            }

            if (!known.Contains(property.Name))
            {
                return (null, Problems.From(DomainError.Invalid("unknown_field", property.Name, $"'{property.Name}' is not a field of this request.")));
            }

            if (ServerOwnedInside(property.Value, serverOwned, property.Name) is { } nested)
            {
                return (null, Problems.From(DomainError.Invalid("read_only_field", nested, $"'{nested}' is set by the server and cannot be sent.")));
            }
        }

        try
        {
            var value = element.Deserialize<T>(JsonDefaults.Options) ?? throw new JsonException("The body is null.");
            return (new JsonBody<T>(value, bytes), null);
        }
        catch (JsonException ex)
        {
            var field = ex.Path?.TrimStart('$', '.');
            return EnumAt(typeof(T), field) is { } enumType
                ? (null, Problems.From(DomainError.Invalid(
                    JsonNamingPolicy.SnakeCaseLower.ConvertName(Leaf(field!)) + "_invalid",
                    field!,
                    $"'{field}' is one of {string.Join(", ", Enum.GetNames(enumType).Select(JsonNamingPolicy.CamelCase.ConvertName))}.")))
                : (null, Problems.Create(StatusCodes.Status400BadRequest, "malformed_json", $"A field has the wrong type ({ex.Path}).", field));
        }
    }

    /// <summary>The path of a server-owned field inside nested objects and arrays (e.g. <c>lines[0].gross</c>), or null.</summary>
    private static string? ServerOwnedInside(JsonElement value, IReadOnlyCollection<string> serverOwned, string path)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in value.EnumerateObject())
                {
                    var inner = path + "." + property.Name;
                    if (serverOwned.Contains(property.Name, StringComparer.OrdinalIgnoreCase))
                    {
                        return inner;
                    }

                    if (ServerOwnedInside(property.Value, serverOwned, inner) is { } deeper)
                    {
                        return deeper;
                    }
                }

                return null;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in value.EnumerateArray())
                {
                    if (ServerOwnedInside(item, serverOwned, $"{path}[{index++}]") is { } deeper)
                    {
                        return deeper;
                    }
                }

                return null;
            default:
                return null;
        }
    }

    /// <summary>The enum type of the property at a deserialization error's path (<c>cardType</c>, <c>nodes[0].kind</c>), or null.</summary>
    private static Type? EnumAt(Type root, string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return null;
        }

        var type = root;
        foreach (var segment in path.Split('.'))
        {
            var name = segment.Split('[')[0];
            var property = JsonDefaults.Options.GetTypeInfo(type).Properties.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));
            if (property is null)
            {
                return null;
            }

            type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (segment.Contains('[', StringComparison.Ordinal))
            {
                type = type.IsArray ? type.GetElementType()! : type.GetInterfaces().Append(type)
                    .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0] ?? type;
                type = Nullable.GetUnderlyingType(type) ?? type;
            }
        }

        return type.IsEnum ? type : null;
    }

    private static string Leaf(string path) => path[(path.LastIndexOf('.') + 1)..].Split('[')[0];

    /// <summary>Reads a body that must be a JSON object, returning it as an element (detached from any document).</summary>
    public static async Task<((JsonElement Element, byte[] Raw)? Body, IResult? Problem)> ReadElementAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        var (raw, problem) = await ReadRawAsync(request, maxBytes, cancellationToken);
        return problem is not null ? (null, problem) : Parse(raw!);
    }

    /// <summary>Parses bytes already read (e.g. after a signature over them was checked).</summary>
    public static ((JsonElement Element, byte[] Raw)? Body, IResult? Problem) Parse(byte[] raw)
    {
        ArgumentNullException.ThrowIfNull(raw);
        if (raw.Length == 0)
        {
            return (null, Problems.Create(StatusCodes.Status400BadRequest, "body_required", "A JSON body is required."));
        }

        try
        {
            using var document = JsonDocument.Parse(raw, new JsonDocumentOptions { MaxDepth = 16 });
            return document.RootElement.ValueKind == JsonValueKind.Object
                ? ((document.RootElement.Clone(), raw), null)
                : (null, Problems.Create(StatusCodes.Status400BadRequest, "malformed_json", "The body must be a JSON object."));
        }
        catch (JsonException ex)
        {
            return (null, Problems.Create(StatusCodes.Status400BadRequest, "malformed_json", $"The body is not valid JSON: {ex.Message}"));
        }
    }

    /// <summary>Reads the raw body: JSON content type, within the size limit.</summary>
    public static async Task<(byte[]? Raw, IResult? Problem)> ReadRawAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ContentType is not { } contentType ||
            !(contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) || contentType.Contains("+json", StringComparison.OrdinalIgnoreCase)))
        {
            return (null, Problems.Create(StatusCodes.Status415UnsupportedMediaType, "unsupported_media_type", "Send the body as application/json."));
        }

        if (request.ContentLength > maxBytes)
        {
            return (null, TooLarge(maxBytes));
        }

        var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > maxBytes)
            {
                return (null, TooLarge(maxBytes));
            }
        }

        return (buffer.ToArray(), null);
    }

    private static IResult TooLarge(int maxBytes) =>
        Problems.Create(StatusCodes.Status413PayloadTooLarge, "body_too_large", $"The body is larger than {maxBytes} bytes.");
}
