namespace Loyalty.Bench;

/// <summary>
/// A loop that runs beside a benchmark phase until disposed (the event consumer, the stall probe): the subclass starts
/// it with <see cref="Start"/>, and disposing cancels it and waits for it to end.
/// </summary>
internal abstract class BackgroundLoop : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;

    /// <summary>Runs <paramref name="loop"/> on the thread pool with the token that disposing cancels.</summary>
    protected void Start(Func<CancellationToken, Task> loop) => _loop = Task.Run(() => loop(_stop.Token));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }
}
