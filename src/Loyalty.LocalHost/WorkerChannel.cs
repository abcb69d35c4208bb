using System.Collections.Concurrent;
using System.Threading.Channels;
using Grpc.Core;
using Microsoft.Azure.WebJobs.Script.Grpc.Messages;

namespace Loyalty.LocalHost;

/// <summary>
/// The host's end of the worker's one bidirectional gRPC stream: messages to the worker are queued and written in
/// order; answers are matched to their requests (init and metadata by kind, loads by function id, invocations by
/// invocation id); the worker's logs go to the host's log.
/// </summary>
public sealed class WorkerChannel(ILoggerFactory loggerFactory)
{
    private readonly ILogger _logger = loggerFactory.CreateLogger<WorkerChannel>();
    private readonly ConcurrentDictionary<string, ILogger> _workerLoggers = new(StringComparer.Ordinal);
    private readonly Channel<StreamingMessage> _outbound = Channel.CreateUnbounded<StreamingMessage>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<string, TaskCompletionSource<StreamingMessage>> _pending = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource<string> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _streams;

    /// <summary>Completes with the worker id when the worker has opened its stream.</summary>
    public Task<string> Started => _started.Task;

    /// <summary>Completes when the worker's stream has ended.</summary>
    public Task Closed => _closed.Task;

    /// <summary>Function names by id, for log lines.</summary>
    internal ConcurrentDictionary<string, string> FunctionNames { get; } = new(StringComparer.Ordinal);

    /// <summary>Serves the stream until the worker closes it or the host stops.</summary>
    internal async Task ServeAsync(IAsyncStreamReader<StreamingMessage> requests, IServerStreamWriter<StreamingMessage> responses, CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _streams) != 1)
        {
            throw new Grpc.Core.RpcException(new Status(StatusCode.AlreadyExists, "This host runs one worker, and it is connected."));
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var writer = Task.Run(async () =>
        {
            await foreach (var message in _outbound.Reader.ReadAllAsync(stop.Token))
            {
                await responses.WriteAsync(message, stop.Token);
            }
        }, stop.Token);
        try
        {
            await foreach (var message in requests.ReadAllAsync(cancellationToken))
            {
                Receive(message);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The host is stopping.
        }
        finally
        {
            await stop.CancelAsync();
            _closed.TrySetResult();
            foreach (var pending in _pending.Values)
            {
                pending.TrySetException(new IOException("The worker's stream ended."));
            }

            try
            {
                await writer;
            }
            catch (OperationCanceledException)
            {
                // Stopped with the stream.
            }
        }
    }

    /// <summary>Sends a message that expects an answer correlated by <paramref name="key"/>.</summary>
    internal async Task<StreamingMessage> RequestAsync(string key, StreamingMessage message, CancellationToken cancellationToken)
    {
        var answer = new TaskCompletionSource<StreamingMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_pending.TryAdd(key, answer))
        {
            throw new InvalidOperationException($"A request '{key}' is already waiting for its answer.");
        }

        try
        {
            if (_closed.Task.IsCompleted)
            {
                throw new IOException("The worker's stream has ended.");
            }

            Send(message);
            return await answer.Task.WaitAsync(cancellationToken);
        }
        finally
        {
            _pending.TryRemove(key, out _);
        }
    }

    /// <summary>Sends a message that expects no answer.</summary>
    internal void Send(StreamingMessage message) => _outbound.Writer.TryWrite(message);

    /// <summary>Runs one invocation and returns the worker's response.</summary>
    /// <summary>Adds what every invocation of a function needs besides its trigger (input bindings such as a durable client).</summary>
    internal Action<InvocationRequest>? BeforeInvoke { get; set; }

    internal async Task<InvocationResponse> InvokeAsync(InvocationRequest request, CancellationToken cancellationToken)
    {
        BeforeInvoke?.Invoke(request);
        // The worker reads the trace context of every invocation; the host always sends one.
        request.TraceContext ??= new RpcTraceContext { TraceParent = System.Diagnostics.Activity.Current?.Id ?? string.Empty, TraceState = string.Empty };
        request.RetryContext ??= new RetryContext();
        var answer = await RequestAsync("invocation:" + request.InvocationId, new StreamingMessage { RequestId = Guid.NewGuid().ToString(), InvocationRequest = request }, cancellationToken);
        return answer.InvocationResponse;
    }

    private void Receive(StreamingMessage message)
    {
        switch (message.ContentCase)
        {
            case StreamingMessage.ContentOneofCase.StartStream:
                _started.TrySetResult(message.StartStream.WorkerId);
                break;
            case StreamingMessage.ContentOneofCase.WorkerInitResponse:
                Answer("init", message);
                break;
            case StreamingMessage.ContentOneofCase.FunctionMetadataResponse:
                Answer("metadata", message);
                break;
            case StreamingMessage.ContentOneofCase.FunctionLoadResponse:
                Answer("load:" + message.FunctionLoadResponse.FunctionId, message);
                break;
            case StreamingMessage.ContentOneofCase.InvocationResponse:
                Answer("invocation:" + message.InvocationResponse.InvocationId, message);
                break;
            case StreamingMessage.ContentOneofCase.WorkerStatusResponse:
                Answer("status", message);
                break;
            case StreamingMessage.ContentOneofCase.RpcLog:
                Log(message.RpcLog);
                break;
            default:
                _logger.LogDebug("Ignored a {Kind} message from the worker", message.ContentCase);
                break;
        }
    }

    private void Answer(string key, StreamingMessage message)
    {
        if (_pending.TryGetValue(key, out var waiting))
        {
            waiting.TrySetResult(message);
        }
        else
        {
            _logger.LogDebug("An answer nobody waits for: {Key}", key);
        }
    }

    private void Log(RpcLog log)
    {
        var level = log.Level switch
        {
            RpcLog.Types.Level.Trace => LogLevel.Trace,
            RpcLog.Types.Level.Debug => LogLevel.Debug,
            RpcLog.Types.Level.Information => LogLevel.Information,
            RpcLog.Types.Level.Warning => LogLevel.Warning,
            RpcLog.Types.Level.Error => LogLevel.Error,
            RpcLog.Types.Level.Critical => LogLevel.Critical,
            _ => LogLevel.None,
        };
        // Under the worker's own category, so the host's log filters apply to the worker's lines as to its own.
        var logger = _workerLoggers.GetOrAdd(string.IsNullOrEmpty(log.Category) ? "Worker" : log.Category, loggerFactory.CreateLogger);
        if (level == LogLevel.None || !logger.IsEnabled(level))
        {
            return;
        }

        var exception = log.Exception is { } e ? $" {e.Type}: {e.Message}\n{e.StackTrace}" : string.Empty;
        logger.Log(level, "{Message}{Exception}", log.Message, exception);
    }
}

/// <summary>The gRPC service the worker connects to.</summary>
internal sealed class FunctionRpcService(WorkerChannel channel) : FunctionRpc.FunctionRpcBase
{
    public override Task EventStream(IAsyncStreamReader<StreamingMessage> requestStream, IServerStreamWriter<StreamingMessage> responseStream, ServerCallContext context) =>
        channel.ServeAsync(requestStream, responseStream, context.CancellationToken);
}
