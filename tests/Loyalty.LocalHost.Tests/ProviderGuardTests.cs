using DurableTask.AzureStorage;
using DurableTask.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;
using Xunit;

namespace Loyalty.LocalHost.Tests;

/// <summary>
/// The provider's start and stop, as the Durable Task gRPC server calls them from its async void lifetime callbacks
/// (where an exception aborts the host) while the engine stops the provider itself: safe in any order.
/// </summary>
public sealed class ProviderGuardTests
{
    [Fact]
    public async Task TheAzureStorageProvider_ThrowsWhenStoppedBeforeItStarted_TheGuardStopsNothing()
    {
        // What made a host whose worker died at once abort (exit 134) instead of exiting 1: DTFx's own provider.
        // Nothing here touches storage: the provider throws before any call.
        var provider = new AzureStorageOrchestrationService(new AzureStorageOrchestrationServiceSettings
        {
            StorageAccountClientProvider = new StorageAccountClientProvider("UseDevelopmentStorage=true"),
            TaskHubName = "guardtest",
        });
        await Assert.ThrowsAsync<NullReferenceException>(() => provider.StopAsync(isForced: true));

        var guard = new ProviderGuard(provider, NullLogger.Instance);
        await guard.StopAsync(isForced: true);
        await guard.StopAsync();
        Assert.False(guard.StartFailed.IsCompleted);
    }

    [Fact]
    public async Task AStopBeforeTheStart_LeavesTheProviderUnstarted()
    {
        var provider = new Mock<IOrchestrationService>(MockBehavior.Strict);
        var guard = new ProviderGuard(provider.Object, NullLogger.Instance);

        await guard.StopAsync(isForced: true);
        await guard.StartAsync();

        // Strict: a call to the provider's StartAsync or StopAsync would have thrown.
        provider.VerifyNoOtherCalls();
        Assert.False(guard.StartFailed.IsCompleted);
    }

    [Fact]
    public async Task AStopDuringTheStart_WaitsForIt_ThenStopsTheProviderOnce()
    {
        var starting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var provider = new Mock<IOrchestrationService>(MockBehavior.Strict);
        provider.Setup(p => p.StartAsync()).Returns(starting.Task);
        provider.Setup(p => p.StopAsync(true)).Returns(Task.CompletedTask);
        var guard = new ProviderGuard(provider.Object, NullLogger.Instance);

        var start = guard.StartAsync();
        var stop = guard.StopAsync(isForced: true);
        await Task.Delay(200);
        Assert.False(stop.IsCompleted, "the stop did not wait for the start under way");
        provider.Verify(p => p.StopAsync(It.IsAny<bool>()), Times.Never);

        starting.SetResult();
        await start.WaitAsync(TimeSpan.FromSeconds(10));
        await stop.WaitAsync(TimeSpan.FromSeconds(10));

        // The server's own stop, after the engine's, and a late start: neither reaches the provider.
        await guard.StopAsync();
        await guard.StartAsync();
        VerifyStartedOnceAndStoppedOnce(provider);
    }

    [Fact]
    public async Task AStartThatFails_IsReported_NotThrown_AndWhatItStartedIsStoppedOnce()
    {
        var provider = new Mock<IOrchestrationService>(MockBehavior.Strict);
        provider.Setup(p => p.StartAsync()).ThrowsAsync(new InvalidOperationException("the partition table is gone"));
        provider.Setup(p => p.StopAsync(true)).Returns(Task.CompletedTask);
        var guard = new ProviderGuard(provider.Object, NullLogger.Instance);

        await guard.StartAsync();
        var reason = await guard.StartFailed.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Contains("the partition table is gone", reason, StringComparison.Ordinal);

        // The engine's stop and the server's: the failed start's leftovers were stopped once already, right after it.
        await guard.StopAsync(isForced: true);
        await guard.StopAsync();
        VerifyStartedOnceAndStoppedOnce(provider);
    }

    [Fact]
    public async Task AStopThatThrows_ReachesItsCaller_AndIsNotTriedAgainByTheServer()
    {
        var provider = new Mock<IOrchestrationService>(MockBehavior.Strict);
        provider.Setup(p => p.StartAsync()).Returns(Task.CompletedTask);
        provider.Setup(p => p.StopAsync(true)).ThrowsAsync(new InvalidOperationException("lease release failed"));
        var guard = new ProviderGuard(provider.Object, NullLogger.Instance);
        await guard.StartAsync();

        // The engine's own stop sees the error (and logs it); the server's stop, from its async void, must not throw.
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => guard.StopAsync(isForced: true));
        Assert.Equal("lease release failed", error.Message);
        await guard.StopAsync();
        provider.Verify(p => p.StopAsync(It.IsAny<bool>()), Times.Once);
    }

    [Fact]
    public async Task WorkItemCalls_GoThroughUnchanged()
    {
        var provider = new Mock<IOrchestrationService>(MockBehavior.Strict);
        provider.SetupGet(p => p.MaxConcurrentTaskActivityWorkItems).Returns(17);
        provider.Setup(p => p.LockNextTaskActivityWorkItem(TimeSpan.FromSeconds(3), It.IsAny<CancellationToken>())).ReturnsAsync((TaskActivityWorkItem)null!);
        var guard = new ProviderGuard(provider.Object, NullLogger.Instance);

        var (item, state, outbound, orchestrator, timers, continued, status) =
            (new TaskOrchestrationWorkItem(), new OrchestrationRuntimeState(), new List<TaskMessage>(), new List<TaskMessage>(), new List<TaskMessage>(), new TaskMessage(), new OrchestrationState());
        provider.Setup(p => p.CompleteTaskOrchestrationWorkItemAsync(item, state, outbound, orchestrator, timers, continued, status)).Returns(Task.CompletedTask);

        Assert.Equal(17, guard.MaxConcurrentTaskActivityWorkItems);
        Assert.Null(await guard.LockNextTaskActivityWorkItem(TimeSpan.FromSeconds(3), CancellationToken.None));

        // Each argument in its place (three lists of the same type, matched by reference).
        await guard.CompleteTaskOrchestrationWorkItemAsync(item, state, outbound, orchestrator, timers, continued, status);
        provider.VerifyAll();
    }

    // The provider's whole lifecycle as the guard let it through: one start, one forced stop, nothing else.
    private static void VerifyStartedOnceAndStoppedOnce(Mock<IOrchestrationService> provider)
    {
        provider.Verify(p => p.StartAsync(), Times.Once);
        provider.Verify(p => p.StopAsync(true), Times.Once);
        provider.VerifyNoOtherCalls();
    }
}
