using System.Text;
using System.Text.Json;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Loyalty.Storage.Azure;

namespace Loyalty.Storage.Tables;

/// <summary>
/// Table service REST client on an Azure.Core pipeline (see the "Table service REST API" reference). Thread-safe;
/// one instance per table, used as a singleton.
/// </summary>
public sealed class TableClient : ITableClient
{
    internal const string ApiVersion = "2019-02-02";
    private const string JsonMinimal = "application/json;odata=minimalmetadata";

    private readonly HttpPipeline _pipeline;
    private readonly Uri _endpoint;

    internal TableClient(HttpPipeline pipeline, Uri endpoint, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        _pipeline = pipeline;
        _endpoint = endpoint;
        Name = name;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public async Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default)
    {
        using var message = Create(RequestMethod.Post, "Tables");
        message.Request.Headers.SetValue("Prefer", "return-no-content");
        SetJson(message.Request, JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["TableName"] = Name }));
        await _pipeline.SendAsync(message, cancellationToken);
        if (message.Response.Status is not (201 or 204 or 409))
        {
            throw StoragePipeline.Failure(message.Response);
        }
    }

    /// <summary>Deletes the table with its rows; nothing happens when it does not exist.</summary>
    public async Task DeleteIfExistsAsync(CancellationToken cancellationToken = default)
    {
        using var message = Create(RequestMethod.Delete, $"Tables('{Name}')");
        await _pipeline.SendAsync(message, cancellationToken);
        if (message.Response.Status is not (204 or 404))
        {
            throw StoragePipeline.Failure(message.Response);
        }
    }

    /// <inheritdoc />
    public async Task<TableEntity?> GetEntityAsync(string partitionKey, string rowKey, CancellationToken cancellationToken = default)
    {
        using var message = Create(RequestMethod.Get, EntityPath(partitionKey, rowKey));
        await _pipeline.SendAsync(message, cancellationToken);
        var response = message.Response;
        if (response.Status == 404)
        {
            return null;
        }

        EnsureSuccess(response);
        using var doc = JsonDocument.Parse(response.Content.ToMemory());
        return TableEntityJson.Deserialize(doc.RootElement, response.Headers.ETag?.ToString());
    }

    /// <inheritdoc />
    public async Task<ETag> AddEntityAsync(TableEntity entity, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entity);
        using var message = Create(RequestMethod.Post, Name);
        message.Request.Headers.SetValue("Prefer", "return-no-content");
        SetJson(message.Request, TableEntityJson.Serialize(entity));
        return await SendForETagAsync(message, entity, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<ETag> UpdateEntityAsync(TableEntity entity, ETag ifMatch, TableUpdateMode mode = TableUpdateMode.Replace, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entity);
        if (ifMatch == default)
        {
            throw new ArgumentException("An update needs an ETag (or ETag.All for an unconditional one).", nameof(ifMatch));
        }

        using var message = Create(mode == TableUpdateMode.Replace ? RequestMethod.Put : new RequestMethod("MERGE"), EntityPath(entity.PartitionKey, entity.RowKey));
        message.Request.Headers.SetValue("If-Match", ifMatch.ToString());
        SetJson(message.Request, TableEntityJson.Serialize(entity));
        return await SendForETagAsync(message, entity, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<ETag> UpsertEntityAsync(TableEntity entity, TableUpdateMode mode = TableUpdateMode.Replace, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entity);
        using var message = Create(mode == TableUpdateMode.Replace ? RequestMethod.Put : new RequestMethod("MERGE"), EntityPath(entity.PartitionKey, entity.RowKey));
        SetJson(message.Request, TableEntityJson.Serialize(entity));
        return await SendForETagAsync(message, entity, cancellationToken);
    }

    /// <inheritdoc />
    public async Task DeleteEntityAsync(string partitionKey, string rowKey, ETag ifMatch, CancellationToken cancellationToken = default)
    {
        using var message = Create(RequestMethod.Delete, EntityPath(partitionKey, rowKey));
        message.Request.Headers.SetValue("If-Match", ifMatch == default ? "*" : ifMatch.ToString());
        await _pipeline.SendAsync(message, cancellationToken);
        if (message.Response.Status != 404)
        {
            EnsureSuccess(message.Response);
        }
    }

    /// <inheritdoc />
    public async Task<TablePage> QueryPageAsync(string? filter, int? maxPerPage = null, TableContinuation? continuation = null, IReadOnlyList<string>? columns = null, CancellationToken cancellationToken = default)
    {
        var query = new List<string>();
        if (!string.IsNullOrEmpty(filter))
        {
            query.Add("$filter=" + Uri.EscapeDataString(filter));
        }

        if (maxPerPage is > 0)
        {
            query.Add("$top=" + Math.Min(maxPerPage.Value, 1000));
        }

        if (columns is { Count: > 0 })
        {
            query.Add("$select=" + Uri.EscapeDataString(string.Join(",", columns)));
        }

        if (continuation is not null)
        {
            query.Add("NextPartitionKey=" + Uri.EscapeDataString(continuation.NextPartitionKey));
            if (continuation.NextRowKey is not null)
            {
                query.Add("NextRowKey=" + Uri.EscapeDataString(continuation.NextRowKey));
            }
        }

        using var message = Create(RequestMethod.Get, Name + "()", string.Join('&', query));
        await _pipeline.SendAsync(message, cancellationToken);
        var response = message.Response;
        EnsureSuccess(response);
        using var doc = JsonDocument.Parse(response.Content.ToMemory());
        var items = doc.RootElement.GetProperty("value").EnumerateArray().Select(e => TableEntityJson.Deserialize(e)).ToList();
        TableContinuation? next = response.Headers.TryGetValue("x-ms-continuation-NextPartitionKey", out var npk) && !string.IsNullOrEmpty(npk)
            ? new TableContinuation(npk, response.Headers.TryGetValue("x-ms-continuation-NextRowKey", out var nrk) ? nrk : null)
            : null;
        return new TablePage(items, next);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ETag>> SubmitTransactionAsync(IReadOnlyList<TableTransactionAction> actions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(actions);
        if (actions.Count is 0 or > 100)
        {
            throw new ArgumentException("An entity-group transaction holds 1 to 100 operations.", nameof(actions));
        }

        var partition = actions[0].Entity.PartitionKey;
        if (actions.Any(a => a.Entity.PartitionKey != partition))
        {
            throw new ArgumentException("All operations of a transaction share one partition key.", nameof(actions));
        }

        var batch = TableBatchEncoder.Encode(_endpoint, Name, actions);
        using var message = Create(RequestMethod.Post, "$batch");
        message.Request.Headers.SetValue("Content-Type", $"multipart/mixed; boundary={batch.Boundary}");
        message.Request.Content = RequestContent.Create(batch.Body);
        await _pipeline.SendAsync(message, cancellationToken);
        var response = message.Response;
        EnsureSuccess(response);
        return TableBatchEncoder.DecodeResponse(response, actions.Count);
    }

    private HttpMessage Create(RequestMethod method, string path, string? query = null)
    {
        var message = StoragePipeline.CreateMessage(_pipeline, _endpoint, method, path, query, ApiVersion);
        var request = message.Request;
        request.Headers.SetValue("Accept", JsonMinimal);
        request.Headers.SetValue("DataServiceVersion", "3.0");
        request.Headers.SetValue("MaxDataServiceVersion", "3.0;NetFx");
        return message;
    }

    private async Task<ETag> SendForETagAsync(HttpMessage message, TableEntity entity, CancellationToken cancellationToken)
    {
        await _pipeline.SendAsync(message, cancellationToken);
        EnsureSuccess(message.Response);
        var etag = message.Response.Headers.ETag ?? default;
        entity.ETag = etag;
        return etag;
    }

    private static void SetJson(Request request, byte[] body)
    {
        request.Headers.SetValue("Content-Type", "application/json");
        request.Content = RequestContent.Create(body);
    }

    internal string EntityPath(string partitionKey, string rowKey) =>
        $"{Name}(PartitionKey='{EscapeKey(partitionKey)}',RowKey='{EscapeKey(rowKey)}')";

    private static string EscapeKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Uri.EscapeDataString(key.Replace("'", "''", StringComparison.Ordinal));
    }

    private static void EnsureSuccess(Response response)
    {
        if (response.IsError)
        {
            throw StoragePipeline.Failure(response);
        }
    }

    internal static string Describe(IEnumerable<TableTransactionAction> actions) =>
        new StringBuilder().AppendJoin(", ", actions.Select(a => $"{a.ActionType} {a.Entity.RowKey}")).ToString();
}
