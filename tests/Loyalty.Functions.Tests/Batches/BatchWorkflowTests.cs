using Loyalty.Functions.Batches;
using Loyalty.Functions.Tests.Support;
using Xunit;

namespace Loyalty.Functions.Tests.Batches;

/// <summary>The <see cref="BatchImport"/> orchestrator's own decisions: chunks in waves, progress, and cancel between waves.</summary>
public sealed class BatchWorkflowTests
{
    private readonly List<int> _chunks = [];
    private readonly List<BatchChunk> _calls = [];
    private readonly List<BatchOutcome> _finished = [];

    private FakeOrchestration Runtime(int rows, int chunks, int stagingFailed, Action<int>? onChunk = null, Func<BatchChunk, ChunkResult>? result = null, Func<bool>? behind = null)
    {
        var runtime = new FakeOrchestration(DateTimeOffset.Parse("2026-12-01T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        return runtime
            .Activity<BatchStart, StagedBatch>(StageBatch.Name, _ => new StagedBatch(BatchKind.Members, rows, chunks, stagingFailed))
            .Activity<BatchChunk, ChunkResult>(ApplyBatchChunk.Name, chunk =>
            {
                _chunks.Add(chunk.Chunk);
                _calls.Add(chunk);
                onChunk?.Invoke(chunk.Chunk);
                return result?.Invoke(chunk) ?? new ChunkResult(BatchImport.ChunkSize - 1, 1);
            })
            .Activity<string, bool>(MeasureBatchBacklog.Name, _ => behind?.Invoke() ?? false)
            .Activity<BatchOutcome, object?>(FinishBatch.Name, outcome =>
            {
                _finished.Add(outcome);
                return null;
            });
    }

    [Fact]
    public async Task EveryChunkIsApplied_InWavesOfFour_AndTheCountsAddUp()
    {
        var rows = (6 * BatchImport.ChunkSize) + 3;
        var runtime = Runtime(rows, 6, stagingFailed: 3);

        runtime.Start(BatchImport.RunAsync, new BatchStart("B1"), "B1");
        var result = await runtime.OutputAsync<BatchProgress>();

        Assert.Equal([0, 1, 2, 3, 4, 5], _chunks.Order());
        Assert.Equal(6 * (BatchImport.ChunkSize - 1), result.Done);
        Assert.Equal(6 + 3, result.Failed);
        Assert.Equal(0, result.Remaining);
        Assert.False(result.Cancelled);
        Assert.Equal(new BatchOutcome("B1", result.Done, result.Failed, false), Assert.Single(_finished));
        Assert.Equal([StageBatch.Name, .. Enumerable.Repeat(ApplyBatchChunk.Name, 4), MeasureBatchBacklog.Name, .. Enumerable.Repeat(ApplyBatchChunk.Name, 2), FinishBatch.Name], runtime.Calls);
    }

    [Fact]
    public async Task Cancel_StopsBeforeTheNextWave_TheAppliedRowsStay()
    {
        var rows = 6 * BatchImport.ChunkSize;
        FakeOrchestration? runtime = null;
        runtime = Runtime(rows, 6, 0, chunk =>
        {
            if (chunk == 0)
            {
                runtime!.Raise(BatchImport.CancelEvent, "cancel");
            }
        });

        runtime.Start(BatchImport.RunAsync, new BatchStart("B2"), "B2");
        var result = await runtime.OutputAsync<BatchProgress>();

        Assert.Equal([0, 1, 2, 3], _chunks.Order());
        Assert.True(result.Cancelled);
        Assert.Equal(4 * (BatchImport.ChunkSize - 1), result.Done);
        Assert.Equal(rows - result.Done - result.Failed, result.Remaining);
        Assert.True(Assert.Single(_finished).Cancelled);
    }

    [Fact]
    public async Task AChunkThatRanOutOfTime_GoesOnInALaterWave_FromWhereItStopped()
    {
        var rows = 5 * BatchImport.ChunkSize;
        var runtime = Runtime(rows, 5, 0, result: call => call is { Chunk: 1, From: 0 }
            ? new ChunkResult(200, 0, Next: 200)
            : new ChunkResult(BatchImport.ChunkSize - call.From, 0));

        runtime.Start(BatchImport.RunAsync, new BatchStart("B3"), "B3");
        var result = await runtime.OutputAsync<BatchProgress>();

        Assert.Equal(rows, result.Done);
        Assert.Equal(0, result.Remaining);
        Assert.Equal(new BatchChunk("B3", BatchKind.Members, 1, 200), _calls[^1]);
        Assert.Equal(6, _calls.Count);
    }

    [Fact]
    public async Task WhileTheQueuesAreBehind_TheNextWaveWaits_ThenGoesOn()
    {
        var answers = new Queue<bool>([true, true, false]);
        var runtime = Runtime(6 * BatchImport.ChunkSize, 6, 0, behind: answers.Dequeue);

        runtime.Start(BatchImport.RunAsync, new BatchStart("B4"), "B4");

        Assert.Equal([0, 1, 2, 3], _chunks.Order());
        runtime.Advance(BatchImport.BacklogPause);
        Assert.Equal(4, _chunks.Count);
        runtime.Advance(BatchImport.BacklogPause);
        var result = await runtime.OutputAsync<BatchProgress>();
        Assert.Equal(6, _chunks.Count);
        Assert.Equal(0, result.Remaining);
        Assert.Equal(3, runtime.Calls.Count(c => c == MeasureBatchBacklog.Name));
    }

    [Fact]
    public async Task QueuesThatNeverCatchUp_HoldAWaveForAtMostTheLongestWait()
    {
        var runtime = Runtime(5 * BatchImport.ChunkSize, 5, 0, behind: () => true);

        runtime.Start(BatchImport.RunAsync, new BatchStart("B5"), "B5");
        for (var waited = TimeSpan.Zero; waited < BatchImport.MaxBacklogWait; waited += BatchImport.BacklogPause)
        {
            Assert.Equal(4, _chunks.Count);
            runtime.Advance(BatchImport.BacklogPause);
        }

        var result = await runtime.OutputAsync<BatchProgress>();
        Assert.Equal(5, _chunks.Count);
        Assert.Equal(0, result.Remaining);
    }
}
