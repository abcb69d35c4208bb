using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Microsoft.OpenApi.Any;
using Microsoft.OpenApi.Models;

namespace Loyalty.Functions.Tests.Support;

/// <summary>
/// Checks every JSON response the tests receive against docs/openapi.json: the operation (path template and method)
/// must be documented, with the status, and the body must match the documented schema (types, required properties,
/// nullability, enums, array items, allOf/oneOf/anyOf). It sits in every test client, so the document cannot drift
/// from the code unnoticed; what does not conform is collected and fails the test class that saw it.
/// </summary>
public sealed class OpenApiConformance : DelegatingHandler
{
    private static readonly Lazy<OpenApiDocument> Document = new(() =>
    {
        using var stream = File.OpenRead(Hosting.OpenApiDocumentTests.FindRepoFile("docs/openapi.json"));
        return new Microsoft.OpenApi.Readers.OpenApiStreamReader().Read(stream, out _);
    });

    private static readonly Lazy<List<(string[] Segments, OpenApiPathItem Item)>> Paths = new(() =>
        [.. Document.Value.Paths
            .Select(p => (Segments: p.Key.Trim('/').Split('/'), Item: p.Value))
            .OrderByDescending(p => p.Segments.Count(s => !s.StartsWith('{')))]);

    private readonly ConcurrentQueue<string> _violations;

    public OpenApiConformance(ConcurrentQueue<string> violations, HttpMessageHandler inner)
        : base(inner)
    {
        _violations = violations;
    }

    /// <summary>Where a response breaks the document; empty when it conforms.</summary>
    public static IEnumerable<string> Check(string method, string path, int status, string? contentType, string body)
    {
        var segments = path.Trim('/').Split('/');
        var operation = Paths.Value
            .Where(p => p.Segments.Length == segments.Length && p.Segments.Zip(segments).All(s => s.First.StartsWith('{') || string.Equals(s.First, s.Second, StringComparison.Ordinal)))
            .Select(p => p.Item.Operations.TryGetValue(Enum.Parse<OperationType>(method, ignoreCase: true), out var o) ? o : null)
            .FirstOrDefault(o => o is not null);
        if (operation is null)
        {
            // Unknown routes and methods answer 404/405 problems; those are documented in api.md, not per path.
            return status is 404 or 405 ? [] : [$"{method} {path}: no documented operation"];
        }

        var code = status.ToString(CultureInfo.InvariantCulture);
        if (!operation.Responses.TryGetValue(code, out var response) && !operation.Responses.TryGetValue("default", out response))
        {
            return status >= 500 ? [] : [$"{method} {path}: status {status} is not documented ({operation.OperationId})"];
        }

        var media = contentType?.Split(';')[0].Trim();
        if (media is not ("application/json" or "application/problem+json") || body.Length == 0)
        {
            return [];
        }

        var schema = response.Content.TryGetValue(media, out var declared) ? declared.Schema
            : response.Content.Values.FirstOrDefault(c => c.Schema is not null)?.Schema;
        if (schema is null)
        {
            return [];
        }

        var errors = new List<string>();
        using var json = JsonDocument.Parse(body);
        Validate(schema, json.RootElement, "$", errors, 0);
        return errors.Select(e => $"{method} {path} {status} ({operation.OperationId}): {e}");
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        var contentType = response.Content.Headers.ContentType?.ToString();
        if (contentType is not null && contentType.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            await response.Content.LoadIntoBufferAsync(cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            foreach (var violation in Check(request.Method.Method, request.RequestUri!.AbsolutePath, (int)response.StatusCode, contentType, body))
            {
                _violations.Enqueue(violation);
            }
        }

        return response;
    }

    private static void Validate(OpenApiSchema schema, JsonElement value, string at, List<string> errors, int depth)
    {
        if (depth > 40)
        {
            return;
        }

        if (schema.AllOf.Count > 0)
        {
            foreach (var part in schema.AllOf)
            {
                Validate(part, value, at, errors, depth + 1);
            }
        }

        foreach (var alternatives in new[] { schema.OneOf, schema.AnyOf }.Where(a => a.Count > 0))
        {
            if (!alternatives.Any(a => Conforms(a, value, depth)))
            {
                errors.Add($"{at}: matches none of its {alternatives.Count} alternatives");
            }
        }

        if (value.ValueKind == JsonValueKind.Null)
        {
            if (!schema.Nullable && schema.Type is not null)
            {
                errors.Add($"{at}: null, but not nullable");
            }

            return;
        }

        var ok = schema.Type switch
        {
            null => true,
            "object" => value.ValueKind == JsonValueKind.Object,
            "array" => value.ValueKind == JsonValueKind.Array,
            "string" => value.ValueKind == JsonValueKind.String,
            "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _),
            "number" => value.ValueKind == JsonValueKind.Number,
            "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
            _ => true,
        };
        if (!ok)
        {
            errors.Add($"{at}: a {value.ValueKind}, documented as {schema.Type}");
            return;
        }

        if (schema.Enum.Count > 0 && value.ValueKind == JsonValueKind.String
            && !schema.Enum.OfType<OpenApiString>().Any(e => e.Value == value.GetString()))
        {
            errors.Add($"{at}: '{value.GetString()}' is not one of the documented values");
        }

        if (value.ValueKind == JsonValueKind.Object)
        {
            foreach (var required in schema.Required.Where(r => !value.TryGetProperty(r, out _)))
            {
                errors.Add($"{at}: required property '{required}' is missing");
            }

            foreach (var property in value.EnumerateObject())
            {
                if (schema.Properties.TryGetValue(property.Name, out var declared))
                {
                    Validate(declared, property.Value, $"{at}.{property.Name}", errors, depth + 1);
                }
                else if (schema.AdditionalProperties is { } additional)
                {
                    Validate(additional, property.Value, $"{at}.{property.Name}", errors, depth + 1);
                }
                else if (!schema.AdditionalPropertiesAllowed)
                {
                    errors.Add($"{at}: property '{property.Name}' is not documented");
                }
            }
        }
        else if (value.ValueKind == JsonValueKind.Array && schema.Items is { } items)
        {
            var index = 0;
            foreach (var item in value.EnumerateArray())
            {
                Validate(items, item, $"{at}[{index++}]", errors, depth + 1);
            }
        }
    }

    private static bool Conforms(OpenApiSchema schema, JsonElement value, int depth)
    {
        var errors = new List<string>();
        Validate(schema, value, "$", errors, depth + 1);
        return errors.Count == 0;
    }
}
