using Azure.Identity;
using Azure.Messaging.ServiceBus;

namespace Loyalty.Functions.Events;

/// <summary>
/// The Service Bus client of integration events, from the <c>LoyaltyEvents</c> connection settings as the Functions
/// host names them: <c>LoyaltyEvents__fullyQualifiedNamespace</c> with the app's managed identity (and
/// <c>LoyaltyEvents__clientId</c> for a user-assigned one), which is how infra/ configures it; or a connection string
/// in <c>LoyaltyEvents</c> where no identity is at hand.
/// </summary>
internal static class ServiceBusConnection
{
    public const string Name = "LoyaltyEvents";

    public static ServiceBusClient CreateClient(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = new ServiceBusClientOptions { Identifier = "loyalty-functions" };
        if (configuration[$"{Name}:fullyQualifiedNamespace"] is { Length: > 0 } ns)
        {
            var clientId = configuration[$"{Name}:clientId"];
            return new ServiceBusClient(ns, string.IsNullOrEmpty(clientId) ? new DefaultAzureCredential() : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId)), options);
        }

        return configuration[Name] is { Length: > 0 } connection
            ? new ServiceBusClient(connection, options)
            : throw new InvalidOperationException("Loyalty__EventTransport is ServiceBus: set LoyaltyEvents__fullyQualifiedNamespace (managed identity) or the LoyaltyEvents connection string.");
    }
}
