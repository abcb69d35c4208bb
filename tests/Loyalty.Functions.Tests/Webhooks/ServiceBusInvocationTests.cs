using System.Net;
using System.Text;
using System.Text.Json;
using Loyalty.Functions.Tests.Support;
using Xunit;

namespace Loyalty.Functions.Tests.Webhooks;

/// <summary>Azure mode: POS sales events as the Functions host delivers a Service Bus message to the handler.</summary>
public sealed class ServiceBusInvocationTests(AzureModeApp app) : IClassFixture<AzureModeApp>
{
    [Fact]
    public async Task HostShapedServiceBusMessage_DeliveredTwice_AccruesOnce()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var (memberId, card) = await app.EnrolAsync();
        var body = JsonSerializer.Serialize(new { eventId = "pos-" + Guid.NewGuid().ToString("N")[..8], type = "order.paid", orderId = "T1-0001", storeId = "gz-001", member = new { cardNumber = card }, lines = new[] { new { sku = "A", category = "food", quantity = 3, unitPrice = 1_000 } } });

        var first = await InvokeAsync(admin, body, 1);
        var second = await InvokeAsync(admin, body, 2);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(30, (await admin.BalancesAsync(memberId)).Points);
        Assert.Equal(1, await admin.LedgerCountAsync(memberId));
    }

    [Fact]
    public async Task HostShapedServiceBusMessage_Unreadable_FailsSoTheHostRetriesAndDeadLetters()
    {
        using var client = app.Client();
        var response = await InvokeAsync(client, "{not json", 1);
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Contains("not valid JSON", (await response.JsonAsync()).GetProperty("Logs")[0].GetString(), StringComparison.Ordinal);
    }

    private static Task<HttpResponseMessage> InvokeAsync(HttpClient client, string messageBody, int deliveryCount)
    {
        // The host passes the message body as a JSON string and Service Bus properties as metadata.
        var payload = "{\"Data\":{\"message\":" + JsonSerializer.Serialize(messageBody) + "},\"Metadata\":{\"MessageId\":\"\\\"m-1\\\"\",\"DeliveryCount\":" + deliveryCount +
            ",\"EnqueuedTimeUtc\":\"\\\"2026-11-22T10:00:00Z\\\"\",\"sys\":{\"MethodName\":\"ProcessPosSaleEvent\",\"UtcNow\":\"2026-11-22T10:00:01Z\"}}}";
        return client.PostAsync("/ProcessPosSaleEvent", new StringContent(payload, Encoding.UTF8, "application/json"));
    }
}
