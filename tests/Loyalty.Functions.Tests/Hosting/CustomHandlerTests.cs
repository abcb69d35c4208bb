using System.Net;
using System.Text;
using System.Text.Json;
using Loyalty.Functions.Tests.Support;
using Xunit;

namespace Loyalty.Functions.Tests.Hosting;

/// <summary>Azure mode: the Functions host's invocation requests, shaped exactly as the host sends them.</summary>
public sealed class CustomHandlerTests(AzureModeApp app) : IClassFixture<AzureModeApp>
{
    [Fact]
    public async Task Root_AnswersForTheHostsReadinessProbe()
    {
        using var client = app.Client();
        var response = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task QueueInvocation_DoublyEncodedString_RunsFunctionAndAnswersWithOutputsLogsReturnValue()
    {
        using var client = app.Client(LoyaltyApp.AdminKey);
        var memberId = await EnrolAsync(client);
        // The host passes a string trigger value JSON-encoded, and the message text is itself JSON: encoded twice.
        var messageText = JsonSerializer.Serialize(new { memberId });
        var data = JsonSerializer.Serialize(JsonSerializer.Serialize(messageText));

        var response = await InvokeAsync(client, "WelcomeNewMember", data, dequeueCount: "1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Equal(JsonValueKind.Object, body.GetProperty("Outputs").ValueKind);
        Assert.Equal(JsonValueKind.Array, body.GetProperty("Logs").ValueKind);
        Assert.Equal(JsonValueKind.Null, body.GetProperty("ReturnValue").ValueKind);
        var notifications = (await (await client.GetAsync($"/api/members/{memberId}/notifications")).JsonAsync()).GetProperty("items");
        Assert.Equal("queued", Assert.Single(notifications.EnumerateArray()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task QueueInvocation_SinglyEncodedAndObjectData_AreAcceptedToo()
    {
        using var client = app.Client(LoyaltyApp.AdminKey);
        var first = await EnrolAsync(client);
        var second = await EnrolAsync(client);

        var singly = await InvokeAsync(client, "WelcomeNewMember", JsonSerializer.Serialize(JsonSerializer.Serialize(new { memberId = first })), dequeueCount: "2");
        var asObject = await InvokeAsync(client, "WelcomeNewMember", JsonSerializer.Serialize(new { memberId = second }), dequeueCount: "1");

        Assert.Equal(HttpStatusCode.OK, singly.StatusCode);
        Assert.Equal(HttpStatusCode.OK, asObject.StatusCode);
    }

    [Fact]
    public async Task QueueInvocation_SameMessageTwice_ComposesOneNotification()
    {
        using var client = app.Client(LoyaltyApp.AdminKey);
        var memberId = await EnrolAsync(client);
        var data = JsonSerializer.Serialize(JsonSerializer.Serialize(JsonSerializer.Serialize(new { memberId })));

        await InvokeAsync(client, "WelcomeNewMember", data, "1");
        await InvokeAsync(client, "WelcomeNewMember", data, "2");
        await InvokeAsync(client, "SendNotification", JsonSerializer.Serialize(JsonSerializer.Serialize(new { memberId, notificationId = "welcome" })), "1");

        var items = (await (await client.GetAsync($"/api/members/{memberId}/notifications")).JsonAsync()).GetProperty("items");
        Assert.Equal("sent", Assert.Single(items.EnumerateArray()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task QueueInvocation_HandlerFails_Answers500WithTheErrorInLogs()
    {
        using var client = app.Client();
        var data = JsonSerializer.Serialize(JsonSerializer.Serialize(JsonSerializer.Serialize(new { memberId = "MNOSUCHMEMBER" })));

        var response = await InvokeAsync(client, "WelcomeNewMember", data, "1");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var logs = (await response.JsonAsync()).GetProperty("Logs");
        Assert.Contains("MNOSUCHMEMBER", logs[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invocation_UnreadablePayload_Answers400()
    {
        using var client = app.Client();
        var response = await client.PostAsync("/WelcomeNewMember", new StringContent("{not json", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task TimerInvocation_HostShapedPayload_Runs()
    {
        using var client = app.Client();
        const string payload = """
            {"Data":{"timer":{"Schedule":{"AdjustForDST":true},"ScheduleStatus":{"Last":"2026-11-21T03:30:00+00:00","Next":"2026-11-22T03:30:00+00:00","LastUpdated":"2026-11-21T03:30:00+00:00"},"IsPastDue":false}},
             "Metadata":{"sys":{"MethodName":"PurgeIdempotencyRecords","UtcNow":"2026-11-22T03:30:00.0123Z","RandGuid":"7b1b0a5e-0000-0000-0000-000000000000"}}}
            """;

        var response = await client.PostAsync("/PurgeIdempotencyRecords", new StringContent(payload, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("PurgeIdempotencyRecords completed", (await response.JsonAsync()).GetProperty("Logs")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HttpFunctions_ServedOnTheSameRoutesInAzureMode()
    {
        using var client = app.Client();
        var response = await client.GetAsync("/api/health");
        Assert.Equal("azure", (await response.JsonAsync()).GetProperty("mode").GetString());
    }

    private static async Task<string> EnrolAsync(HttpClient client)
    {
        var response = await client.EnrolAsync(new { phone = LoyaltyApp.NewPhone(), name = "Host", storeId = "sh-001" }, Guid.NewGuid().ToString());
        return (await response.JsonAsync()).GetProperty("memberId").GetString()!;
    }

    private static Task<HttpResponseMessage> InvokeAsync(HttpClient client, string function, string dataJson, string dequeueCount)
    {
        var metadata = """
            "ExpirationTime":"\"2026-11-29T10:00:00+00:00\"","Id":"\"6d3c6f0e-1c53-4b8e-9a32-3b1f5c7e2a10\"",
            "InsertionTime":"\"2026-11-22T10:00:00+00:00\"","NextVisibleTime":"\"2026-11-22T10:10:00+00:00\"","PopReceipt":"\"AgAAAAMAAAAAAAAA\""
            """;
        var payload = "{\"Data\":{\"message\":" + dataJson + "},\"Metadata\":{\"DequeueCount\":" + dequeueCount + "," + metadata +
            ",\"sys\":{\"MethodName\":\"" + function + "\",\"UtcNow\":\"2026-11-22T10:00:01Z\"}}}";
        return client.PostAsync("/" + function, new StringContent(payload, Encoding.UTF8, "application/json"));
    }
}
