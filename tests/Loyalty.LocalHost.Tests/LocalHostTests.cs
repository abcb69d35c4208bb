using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Storage.Queues;
using Loyalty.Testing;
using Xunit;

namespace Loyalty.LocalHost.Tests;

public sealed class LocalHostTests(SampleHost sample) : IClassFixture<SampleHost>
{
    [Fact]
    public void Start_LoadsEveryFunctionTheWorkerIndexed_WithItsTrigger()
    {
        var triggers = sample.Host.Functions.ToDictionary(f => f.Name, f => f.Trigger.Type);

        Assert.Equal("httpTrigger", triggers["Echo"]);
        Assert.Equal("httpTrigger", triggers["Teapot"]);
        Assert.Equal("queueTrigger", triggers["Relay"]);
        Assert.Equal("timerTrigger", triggers["Tick"]);
        Assert.Equal("orchestrationTrigger", triggers["Greeting"]);
        Assert.Equal("activityTrigger", triggers["SayHello"]);
        Assert.Equal("httpTrigger", triggers["StartGreeting"]);
        Assert.Equal("httpTrigger", triggers["GreetingStatus"]);
        Assert.Equal("httpTrigger", triggers["ApproveGreeting"]);
        Assert.Equal("orchestrationTrigger", triggers["SlowGreeting"]);
        Assert.Equal("activityTrigger", triggers["SlowHello"]);
        Assert.Equal("httpTrigger", triggers["StartSlowGreeting"]);
        Assert.Equal(12, triggers.Count);
    }

    [Fact]
    public async Task Http_RouteValueQueryHeaderAndBody_ReachTheFunction()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/echo/ada?q=42") { Content = new StringContent("会员 body") };
        request.Headers.Add("X-Sample", "present");

        using var response = await sample.Http.SendAsync(request);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ada", body.GetProperty("name").GetString());
        Assert.Equal("POST", body.GetProperty("method").GetString());
        Assert.Equal("42", body.GetProperty("query").GetString());
        Assert.Equal("会员 body", body.GetProperty("body").GetString());
        Assert.Equal("present", body.GetProperty("header").GetString());
    }

    [Fact]
    public async Task Http_ALiteralRouteWinsOverAParameter_AndItsStatusComesBack()
    {
        using var response = await sample.Http.GetAsync("api/echo/teapot");

        Assert.Equal((HttpStatusCode)418, response.StatusCode);
        Assert.Contains("short and stout", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Http_UnknownRoute404_WrongMethod405()
    {
        using var unknown = await sample.Http.GetAsync("api/nowhere");
        using var noPrefix = await sample.Http.GetAsync("echo/ada");
        using var wrongMethod = await sample.Http.DeleteAsync("api/echo/ada");

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, noPrefix.StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.StatusCode);
    }

    [Fact]
    public async Task Http_ConcurrentRequests_EachGetsItsOwnAnswer()
    {
        var answers = await Task.WhenAll(Enumerable.Range(0, 40).Select(async i =>
            (await sample.Http.GetFromJsonAsync<JsonElement>($"api/echo/n{i}")).GetProperty("name").GetString()));

        Assert.Equal(Enumerable.Range(0, 40).Select(i => $"n{i}"), answers);
    }

    [Fact]
    public async Task Queue_AMessageRunsTheFunction_AndItsReturnValueIsWrittenToTheOutputQueue()
    {
        var incoming = Client(sample.IncomingQueue);
        await incoming.CreateIfNotExistsAsync();
        await incoming.SendMessageAsync("hello 会员");

        var relayed = await ReceiveAsync(Client(sample.RelayedQueue), 1);

        Assert.Equal("relayed:hello 会员", Assert.Single(relayed));
    }

    [Fact]
    public async Task Queue_AMessageThatKeepsFailing_MovesUnchangedToPoison_AfterMaxDequeueCount()
    {
        var incoming = Client(sample.IncomingQueue);
        await incoming.CreateIfNotExistsAsync();
        await incoming.SendMessageAsync("fail");

        var poisoned = await ReceiveAsync(Client(sample.IncomingQueue + "-poison"), 1);

        Assert.Equal("fail", Assert.Single(poisoned));
        Assert.Empty((await incoming.PeekMessagesAsync(32)).Value);
    }

    [Fact]
    public async Task Timer_FiresOnItsSchedule_AndWritesItsOutput()
    {
        var ticks = await ReceiveAsync(Client(sample.TicksQueue), 2);

        Assert.All(ticks, t => Assert.Equal("tick", t));
    }

    private QueueClient Client(string name) =>
        new(sample.Azurite.Server.ConnectionString, name, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });

    private static async Task<List<string>> ReceiveAsync(QueueClient queue, int count)
    {
        var got = new List<string>();
        var until = DateTimeOffset.UtcNow.AddSeconds(60);
        while (got.Count < count && DateTimeOffset.UtcNow < until)
        {
            if ((await queue.ExistsAsync()).Value)
            {
                foreach (var message in (await queue.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(1))).Value)
                {
                    got.Add(message.Body.ToString());
                    await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
                }
            }

            await Task.Delay(100);
        }

        return got;
    }
}
