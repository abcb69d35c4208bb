using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Loyalty.Testing;

/// <summary>
/// An Azure SDK pipeline policy for a table client: injects the plan's faults into writes (a synthetic 503 or 412
/// before the request reaches storage, or the real request committed and its response replaced by a 503 or a network
/// timeout), can hold entity-group transactions at a gate, counts transactions and point reads, and refuses any
/// request that would update or delete a ledger row (rows whose key starts <c>ledger-</c> may only be inserted),
/// recording it so the test that caused it fails.
/// </summary>
public sealed partial class FaultInjectionPolicy(FaultPlan plan) : HttpPipelinePolicy
{
    private int _transactions;
    private int _reads;

    /// <summary>Attempts to change or delete ledger rows, with what was attempted.</summary>
    public static ConcurrentBag<string> LedgerViolations { get; } = [];

    /// <summary>When set, each transaction waits for it before it is sent (to hold commits until a test lets them go).</summary>
    public Task? CommitGate { get; set; }

    /// <summary>Entity-group transactions that reached this policy (faulted ones included).</summary>
    public int Transactions => Volatile.Read(ref _transactions);

    /// <summary>Point reads answered through this policy.</summary>
    public int Reads => Volatile.Read(ref _reads);

    /// <inheritdoc />
    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        throw new NotSupportedException("The app's storage calls are asynchronous.");

    /// <inheritdoc />
    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        ArgumentNullException.ThrowIfNull(message);
        var request = message.Request;
        var path = Uri.UnescapeDataString(request.Uri.Path);
        if (request.Method == RequestMethod.Get)
        {
            await ProcessNextAsync(message, pipeline);
            if (path.EndsWith(')') && path.Contains("RowKey=", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _reads);
            }

            return;
        }

        var isBatch = path.EndsWith("/$batch", StringComparison.Ordinal);
        if (path[(path.LastIndexOf('/') + 1)..].StartsWith("Tables", StringComparison.Ordinal))
        {
            // Table management (create, delete): not a row write.
            await ProcessNextAsync(message, pipeline);
            return;
        }

        var requests = isBatch ? await BodyAsync(request, message.CancellationToken) : $"{request.Method} {path}";
        Guard(requests);
        if (isBatch)
        {
            Interlocked.Increment(ref _transactions);
            if (CommitGate is { } gate)
            {
                await gate.WaitAsync(message.CancellationToken);
            }
        }

        switch (plan.Next(requests))
        {
            case Fault.UnavailableBeforeCommit:
                message.Response = new SyntheticResponse(503, "ServerBusy", "Injected: server busy before commit");
                return;
            case Fault.ConflictBeforeCommit:
                message.Response = new SyntheticResponse(412, "UpdateConditionNotSatisfied", "Injected: stale ETag");
                return;
            case Fault.UnavailableAfterCommit:
                await ProcessNextAsync(message, pipeline);
                message.Response.Dispose();
                message.Response = new SyntheticResponse(503, "ServerBusy", "Injected: response lost after commit");
                return;
            case Fault.TimeoutAfterCommit:
                await ProcessNextAsync(message, pipeline);
                message.Response.Dispose();

                // What Azure.Core throws when the network timeout fires.
                throw new TaskCanceledException("Injected: timed out after commit", new TimeoutException());
            default:
                await ProcessNextAsync(message, pipeline);
                return;
        }
    }

    private static async Task<string> BodyAsync(Request request, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        if (request.Content is { } content)
        {
            await content.WriteToAsync(buffer, cancellationToken);
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void Guard(string requests)
    {
        foreach (Match match in LedgerWrite().Matches(requests))
        {
            LedgerViolations.Add(match.Value);
            throw new InvalidOperationException($"Ledger rows are append-only: attempted {match.Value}.");
        }
    }

    // A single request line ("PUT /acct/Members(PartitionKey='m',RowKey='ledger-…')") or one inside a batch.
    [GeneratedRegex(@"(PUT|MERGE|PATCH|DELETE) \S*RowKey='ledger-[^']*'")]
    private static partial Regex LedgerWrite();
}
