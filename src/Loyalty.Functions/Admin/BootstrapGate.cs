namespace Loyalty.Functions.Admin;

/// <summary>Completes when start-up has prepared storage; requests other than the probes wait for it.</summary>
internal sealed class BootstrapGate
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Ready => _ready.Task;

    public void Open() => _ready.TrySetResult();

    public void Fail(Exception error) => _ready.TrySetException(error);
}
