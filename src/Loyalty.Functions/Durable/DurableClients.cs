using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Context.Features;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.DurableTask.Client;

namespace Loyalty.Functions.Durable;

/// <summary>
/// The Durable Task client of the invocation running now, for the services that start, query or signal
/// orchestrations below the function layer (approval requests, the birthday timer). Like IHttpContextAccessor it is a
/// singleton over a value that flows with the invocation: <see cref="DurableClientMiddleware"/> binds the function's
/// <c>[DurableClient]</c> parameter and sets it for the rest of the call.
/// </summary>
internal sealed class DurableClients
{
    private readonly AsyncLocal<Bound?> _current = new();

    /// <summary>The invocation's client; a function that reaches here must declare a <c>[DurableClient]</c> parameter.</summary>
    public DurableTaskClient Client => _current.Value?.Client
        ?? throw new InvalidOperationException("This function declares no [DurableClient] parameter, so it cannot reach the orchestrations.");

    /// <summary>Sets the client for the invocation running in the current async flow.</summary>
    public void Use(DurableTaskClient client) => _current.Value = new Bound(client);

    private sealed record Bound(DurableTaskClient Client);
}

/// <summary>
/// Binds the <c>durableClient</c> input of a function that declares one (the host supplies its endpoint) and hands it to
/// <see cref="DurableClients"/> before the function runs.
/// </summary>
internal sealed class DurableClientMiddleware : IFunctionsWorkerMiddleware
{
    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (context.FunctionDefinition.InputBindings.Values.Any(b => string.Equals(b.Type, "durableClient", StringComparison.OrdinalIgnoreCase))
            && context.Features.Get<IFunctionInputBindingFeature>() is { } inputs)
        {
            // Binds the function's parameters with their own converters (the worker keeps the result for the call itself).
            var bound = await inputs.BindFunctionInputAsync(context);
            if (bound.Values.OfType<DurableTaskClient>().FirstOrDefault() is { } client)
            {
                context.InstanceServices.GetRequiredService<DurableClients>().Use(client);
            }
        }

        await next(context);
    }
}
