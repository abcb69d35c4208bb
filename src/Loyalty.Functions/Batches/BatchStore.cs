using System.Security.Cryptography;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Loyalty.Functions.Http;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;

namespace Loyalty.Functions.Batches;

/// <summary>A batch as recorded when its file was accepted, with its outcome once it has run.</summary>
internal sealed record BatchRecord(
    string BatchId,
    BatchKind Kind,
    BatchFormat Format,
    string Encoding,
    string FileBlob,
    string FileHash,
    string RequestHash,
    string StoreId,
    string CreatedBy,
    DateTimeOffset CreatedAt,
    int Rows)
{
    /// <summary><c>accepted</c>, <c>completed</c> or <c>cancelled</c>.</summary>
    public string Status { get; init; } = "accepted";

    /// <summary>Rows applied, once finished.</summary>
    public int Applied { get; init; }

    /// <summary>Rows that failed, once finished.</summary>
    public int Failed { get; init; }

    /// <summary>When it finished.</summary>
    public DateTimeOffset? FinishedAt { get; init; }
}

/// <summary>
/// Where batches live: the uploaded file, its staged chunks and each chunk's results in the batch container (blob
/// storage, so a file is streamed in and out, never held whole), and one row per batch in the Batches table, with an
/// index row per file already imported (kind and SHA-256).
/// </summary>
internal sealed class BatchStore(BlobServiceClient blobs, TableStore store)
{
    private const string Partition = "batch";
    private const string FilePartition = "file";
    private Task? _created;

    private BlobContainerClient Container => blobs.GetBlobContainerClient(store.Names.BatchContainer);

    private TableClient Table => store.Table(store.Names.Batches);

    /// <summary>The id of a batch: derived from the caller and the Idempotency-Key, so a repeated upload finds its batch.</summary>
    public static string BatchId(string callerId, string key) =>
        "B" + Hashing.Sha256Hex(callerId + "\n" + key)[..19].ToUpperInvariant();

    /// <summary>
    /// Streams an upload into a new blob, hashing it as it goes; more than <paramref name="maxBytes"/> is refused
    /// (413) and the partial blob deleted. Returns the blob's name, the file's SHA-256 and its length.
    /// </summary>
    public async Task<(string Blob, string Sha256, long Length)> UploadAsync(Stream body, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        await EnsureCreatedAsync(cancellationToken);
        var name = "uploads/" + Guid.NewGuid().ToString("N");
        await using var counted = new LimitedHashingStream(body, maxBytes);
        try
        {
            await Container.GetBlobClient(name).UploadAsync(counted, overwrite: true, cancellationToken);
        }
        catch (Exception ex) when (counted.Exceeded || ex is BatchFileException || ex.InnerException is BatchFileException)
        {
            await DeleteAsync(name);
            throw new BatchFileException(StatusCodes.Status413PayloadTooLarge, "batch_too_large", $"A batch file is at most {maxBytes / (1024 * 1024)} MiB.");
        }

        return (name, counted.Sha256Hex(), counted.BytesRead);
    }

    /// <summary>Opens a blob for reading (seekable, as the XLSX reader needs).</summary>
    public async Task<Stream> OpenAsync(string blob, CancellationToken cancellationToken) =>
        await Container.GetBlobClient(blob).OpenReadAsync(new BlobOpenReadOptions(allowModifications: false), cancellationToken);

    /// <summary>Deletes a blob if it is there.</summary>
    public Task DeleteAsync(string blob) => Container.GetBlobClient(blob).DeleteIfExistsAsync();

    /// <summary>Writes <paramref name="value"/> as JSON to a blob, replacing it.</summary>
    public async Task WriteJsonAsync<T>(string blob, T value, CancellationToken cancellationToken)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(value, JsonDefaults.Options);
        await Container.GetBlobClient(blob).UploadAsync(new BinaryData(bytes), overwrite: true, cancellationToken);
    }

    /// <summary>Reads a JSON blob; the default when it is not there.</summary>
    public async Task<T?> ReadJsonAsync<T>(string blob, CancellationToken cancellationToken)
    {
        try
        {
            var content = await Container.GetBlobClient(blob).DownloadContentAsync(cancellationToken);
            return content.Value.Content.ToObjectFromJson<T>(JsonDefaults.Options);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return default;
        }
    }

    /// <summary>The names of the blobs under <paramref name="prefix"/>.</summary>
    public async Task<List<string>> ListAsync(string prefix, CancellationToken cancellationToken)
    {
        var names = new List<string>();
        await foreach (var item in Container.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, cancellationToken))
        {
            names.Add(item.Name);
        }

        return names;
    }

    /// <summary>The batch, or null.</summary>
    public async Task<BatchRecord?> GetAsync(string batchId, CancellationToken cancellationToken)
    {
        var row = await Table.GetEntityIfExistsAsync<TableEntity>(Partition, batchId, cancellationToken: cancellationToken);
        return row.HasValue ? JsonSerializer.Deserialize<BatchRecord>(row.Value!.GetString("Record")!, JsonDefaults.Options) : null;
    }

    /// <summary>Records a new batch; false when a batch with its id is recorded already.</summary>
    public async Task<bool> AddAsync(BatchRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        try
        {
            await Table.AddEntityAsync(new TableEntity(Partition, record.BatchId) { ["Record"] = JsonSerializer.Serialize(record, JsonDefaults.Options) }, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return false;
        }
    }

    /// <summary>Replaces a batch's record (its outcome).</summary>
    public Task UpdateAsync(BatchRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        return Table.UpsertEntityAsync(new TableEntity(Partition, record.BatchId) { ["Record"] = JsonSerializer.Serialize(record, JsonDefaults.Options) }, TableUpdateMode.Replace, cancellationToken);
    }

    /// <summary>The batch that imported this file before (same kind and content), or null; records <paramref name="batchId"/> as its importer when none did.</summary>
    public async Task<string?> ClaimFileAsync(BatchKind kind, string sha256, string batchId, CancellationToken cancellationToken)
    {
        var key = $"{kind}-{sha256}";
        try
        {
            await Table.AddEntityAsync(new TableEntity(FilePartition, key) { ["BatchId"] = batchId }, cancellationToken);
            return null;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            var existing = await Table.GetEntityIfExistsAsync<TableEntity>(FilePartition, key, cancellationToken: cancellationToken);
            var owner = existing.HasValue ? existing.Value!.GetString("BatchId") : null;
            return owner == batchId ? null : owner;
        }
    }

    private Task EnsureCreatedAsync(CancellationToken cancellationToken) =>
        _created ??= Container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);

    /// <summary>A read-only stream over the request body that hashes and counts what passes, and stops past a limit.</summary>
    private sealed class LimitedHashingStream(Stream inner, long limit) : Stream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public long BytesRead { get; private set; }

        public bool Exceeded { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

        public string Sha256Hex() => Convert.ToHexStringLower(_hash.GetHashAndReset());

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count), buffer.AsSpan(offset));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken), buffer.Span);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _hash.Dispose();
            }

            base.Dispose(disposing);
        }

        private int Count(int read, ReadOnlySpan<byte> data)
        {
            BytesRead += read;
            if (BytesRead > limit)
            {
                Exceeded = true;
                throw new BatchFileException(StatusCodes.Status413PayloadTooLarge, "batch_too_large", "The batch file is too large.");
            }

            _hash.AppendData(data[..read]);
            return read;
        }
    }
}
