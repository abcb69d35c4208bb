using Loyalty.Domain.Auth;

namespace Loyalty.Functions.Hosting;

/// <summary>What fires a function. One declaration drives local routing and polling, Azure invocation and function.json.</summary>
public abstract record FunctionTrigger;

/// <summary>An HTTP route under <c>/api</c>.</summary>
/// <param name="Methods">HTTP methods, upper case.</param>
/// <param name="Route">Route template without the <c>api/</c> prefix, e.g. <c>members/{memberId}</c>.</param>
/// <param name="Roles">Roles allowed; empty means anonymous (no API key).</param>
public sealed record HttpTrigger(IReadOnlyList<string> Methods, string Route, IReadOnlyList<Role> Roles) : FunctionTrigger;

/// <summary>A Storage queue trigger.</summary>
/// <param name="QueueName">Queue name (with the configured prefix).</param>
/// <param name="Connection">App setting that names the storage connection.</param>
public sealed record QueueTrigger(string QueueName, string Connection) : FunctionTrigger;

/// <summary>
/// A Service Bus queue trigger in Azure. Without Service Bus locally, local mode polls a Storage queue of
/// <paramref name="LocalQueueName"/> for the same messages.
/// </summary>
/// <param name="QueueName">Service Bus queue name.</param>
/// <param name="Connection">App setting prefix of the identity-based Service Bus connection.</param>
/// <param name="LocalQueueName">Storage queue polled in local mode.</param>
public sealed record ServiceBusTrigger(string QueueName, string Connection, string LocalQueueName) : FunctionTrigger;

/// <summary>A timer trigger with an NCRONTAB schedule (UTC, as on Linux Function Apps).</summary>
/// <param name="Schedule">Six-field NCRONTAB expression.</param>
public sealed record TimerTrigger(string Schedule) : FunctionTrigger;

/// <summary>One function of the app.</summary>
/// <param name="Name">Function name: the folder name of its function.json and the path the host posts to.</param>
/// <param name="Trigger">What fires it.</param>
/// <param name="Handler">For HTTP: the endpoint delegate. For queue and timer: the handler type, resolved from DI.</param>
public sealed record FunctionDefinition(string Name, FunctionTrigger Trigger, object Handler);
