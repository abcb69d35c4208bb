using System.Text.Json;
using Loyalty.Functions.Http;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace Loyalty.Functions.Durable;

/// <summary>Starting an instance whose id names the work (a day, an approval, a campaign) once; raising events.</summary>
internal static class DurableClientExtensions
{
    /// <summary>
    /// Raises an event with its payload in the app's JSON. Inputs and payloads are handed to the client as JSON
    /// already, so the orchestrator, which reads them with the worker's serializer (the app's JSON), reads what was meant
    /// whatever converter the client carries.
    /// </summary>
    public static Task RaiseAsync(this DurableTaskClient client, string instanceId, string eventName, object? payload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        return client.RaiseEventAsync(instanceId, eventName, AsJson(payload), cancellationToken);
    }

    private static JsonElement? AsJson(object? value) => value switch
    {
        null => null,
        JsonElement element => element,
        _ => JsonSerializer.SerializeToElement(value, JsonDefaults.Options),
    };

    /// <summary>
    /// Starts <paramref name="name"/> as <paramref name="instanceId"/> unless an instance with that id exists already
    /// (running or finished): true when this call scheduled it. In Azure the extension refuses to start an id that is
    /// running (AlreadyExists), which settles two callers racing past the check; the work inside is keyed by its own
    /// ids in any case.
    /// </summary>
    public static Task<bool> StartOnceAsync(this DurableTaskClient client, string name, object? input, string instanceId, CancellationToken cancellationToken) =>
        StartAsync(client, name, input, instanceId, restartFinished: false, cancellationToken);

    /// <summary>As <see cref="StartOnceAsync"/>, but an instance that has finished is started again under its id.</summary>
    public static Task<bool> StartUnlessRunningAsync(this DurableTaskClient client, string name, object? input, string instanceId, CancellationToken cancellationToken) =>
        StartAsync(client, name, input, instanceId, restartFinished: true, cancellationToken);

    private static async Task<bool> StartAsync(DurableTaskClient client, string name, object? input, string instanceId, bool restartFinished, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        if (await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, cancellationToken) is { } existing
            && (!restartFinished || existing.RuntimeStatus is OrchestrationRuntimeStatus.Pending or OrchestrationRuntimeStatus.Running or OrchestrationRuntimeStatus.Suspended))
        {
            return false;
        }

        try
        {
            await client.ScheduleNewOrchestrationInstanceAsync(new TaskName(name), AsJson(input), new StartOrchestrationOptions(instanceId), cancellationToken);
            return true;
        }
        catch (Grpc.Core.RpcException ex) when (ex.StatusCode == Grpc.Core.StatusCode.AlreadyExists)
        {
            return false;
        }
    }
}
