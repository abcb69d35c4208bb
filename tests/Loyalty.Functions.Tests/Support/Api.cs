using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Xunit;

namespace Loyalty.Functions.Tests.Support;

/// <summary>Request helpers and problem+json assertions.</summary>
public static class Api
{
    public static HttpRequestMessage Json(HttpMethod method, string url, string body, string? idempotencyKey = null)
    {
        var request = new HttpRequestMessage(method, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return request;
    }

    public static Task<HttpResponseMessage> EnrolAsync(this HttpClient client, object body, string? idempotencyKey) =>
        client.SendAsync(Json(HttpMethod.Post, "/api/members", JsonSerializer.Serialize(body), idempotencyKey));

    public static Task<HttpResponseMessage> PostAsync(this HttpClient client, string url, object body, string? idempotencyKey) =>
        client.SendAsync(Json(HttpMethod.Post, url, JsonSerializer.Serialize(body), idempotencyKey));

    /// <summary>Posts and asserts a 2xx, returning the JSON body.</summary>
    public static async Task<JsonElement> PostOkAsync(this HttpClient client, string url, object body, string? idempotencyKey = null)
    {
        var response = await client.PostAsync(url, body, idempotencyKey ?? Guid.NewGuid().ToString());
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"POST {url} answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    public static async Task<JsonElement> GetJsonAsync(this HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {url} answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    /// <summary>points / principal / bonus of a member as GET shows them.</summary>
    public static async Task<(long Points, long Principal, long Bonus)> BalancesAsync(this HttpClient client, string memberId)
    {
        var b = (await client.GetJsonAsync($"/api/members/{memberId}")).GetProperty("balances");
        var sv = b.GetProperty("storedValue");
        return (b.GetProperty("points").GetInt64(), sv.GetProperty("principal").GetInt64(), sv.GetProperty("bonus").GetInt64());
    }

    public static async Task<int> LedgerCountAsync(this HttpClient client, string memberId) =>
        (await client.GetJsonAsync($"/api/members/{memberId}/ledger?pageSize=200")).GetProperty("items").GetArrayLength();

    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response) =>
        await response.Content.ReadFromJsonAsync<JsonElement>();

    /// <summary>Asserts a problem+json response with the given status and stable code.</summary>
    public static async Task<JsonElement> AssertProblemAsync(this HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status} {code}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(text).RootElement;
        Assert.Equal(code, problem.GetProperty("code").GetString());
        Assert.Equal("urn:loyalty:problem:" + code, problem.GetProperty("type").GetString());
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        return problem;
    }

    /// <summary>Replaces a configuration section (<c>PUT /api/config/{section}</c> with <c>{value}</c>) and asserts a 2xx.</summary>
    public static async Task PutConfigAsync(this HttpClient client, string section, object value)
    {
        var response = await client.PutAsJsonAsync($"/api/config/{section}", new { value });
        Assert.True(response.IsSuccessStatusCode, $"PUT config/{section} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>Starts an orchestration with an instance id, waits until it finishes, asserts it completed, and returns its status.</summary>
    public static async Task<JsonElement> RunOrchestrationAsync(this HttpClient client, string name, string instanceId, object input)
    {
        var start = await client.PostAsync($"/api/orchestrations/{name}?instanceId={instanceId}", input, null);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        JsonElement done = default;
        await EventuallyAsync(
            async () =>
            {
                var response = await client.GetAsync($"/api/orchestrations/{instanceId}");
                done = await response.JsonAsync();
                return response.StatusCode == HttpStatusCode.OK;
            },
            $"{instanceId} to finish",
            () => done.ValueKind == JsonValueKind.Undefined ? "no status read" : $"last status read: {done}");
        Assert.Equal("Completed", done.GetProperty("runtimeStatus").GetString());
        return done;
    }

    /// <summary>
    /// Polls until <paramref name="check"/> holds or 120 s pass. The ceiling only matters when something is wrong or the
    /// shared Azurite is very busy (the whole suite runs in parallel on one Node.js process, two cores in CI, where a
    /// request that takes 50 ms alone has been seen to take two seconds).
    /// </summary>
    /// <param name="check">The condition.</param>
    /// <param name="what">What is awaited, for the failure message.</param>
    /// <param name="lastSeen">Optionally, what was last observed, added to the failure message.</param>
    public static Task EventuallyAsync(Func<Task<bool>> check, string what, Func<string>? lastSeen = null) =>
        EventuallyAsync(check, what, lastSeen is null ? null : () => Task.FromResult(lastSeen()));

    /// <summary>As above, with <paramref name="lastSeen"/> able to read more state (only when it times out).</summary>
    /// <param name="check">The condition.</param>
    /// <param name="what">What is awaited, for the failure message.</param>
    /// <param name="lastSeen">What was last observed, read after the time-out and added to the failure message.</param>
    public static async Task EventuallyAsync(Func<Task<bool>> check, string what, Func<Task<string>>? lastSeen)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (DateTime.UtcNow < deadline)
        {
            if (await check())
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"Timed out waiting for {what}." + (lastSeen is null ? "" : " " + await lastSeen()));
    }
}
