using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit;

namespace Loyalty.LocalHost.Tests;

/// <summary>
/// Durable Functions through the local host: the sample's HTTP starter schedules an orchestration through its
/// [DurableClient], the orchestration calls an activity, fans out to three more, waits for an external event raised
/// through the client, and completes; the Durable Task Framework's Azure Storage provider on Azurite keeps its state.
/// </summary>
public sealed class DurableTests(SampleHost sample) : IClassFixture<SampleHost>
{
    [Fact]
    public async Task Orchestration_RunsActivitiesFansOut_WaitsForItsEvent_AndCompletes()
    {
        var started = await sample.Http.PostAsync("/api/greet/li", null);
        Assert.Equal(HttpStatusCode.OK, started.StatusCode);
        var id = (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        var waiting = await StatusAsync(id, s => s.GetProperty("customStatus").GetString()?.Contains("waiting", StringComparison.Ordinal) == true);
        Assert.Equal("Running", waiting.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.Accepted, (await sample.Http.PostAsync($"/api/greetings/{id}/approve", null)).StatusCode);
        var done = await StatusAsync(id, s => s.GetProperty("status").GetString() is "Completed" or "Failed");

        Assert.True(done.GetProperty("status").GetString() == "Completed", done.ToString());
        Assert.Equal("hello li|hello li1,hello li2,hello li3|approved=True", JsonSerializer.Deserialize<string>(done.GetProperty("output").GetString()!));
        Assert.NotNull(sample.Host.Durable);
        var history = new List<string>();
        await foreach (var table in sample.Azurite.Tables.QueryAsync(t => t.Name == sample.Host.Durable!.HubName + "History"))
        {
            history.Add(table.Name);
        }

        Assert.Single(history);
    }

    [Fact]
    public async Task WorkerKilled_WhileAnOrchestrationWaits_ARestartedHostFinishesIt()
    {
        await using var first = await sample.StartAnotherHostAsync();
        using var http = new HttpClient { BaseAddress = first.BaseAddress };
        var id = (await (await http.PostAsync("/api/greet/wang", null)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        await StatusAsync(http, id, s => s.GetProperty("customStatus").GetString()?.Contains("waiting", StringComparison.Ordinal) == true);

        using (var worker = System.Diagnostics.Process.GetProcessById(first.WorkerProcessId))
        {
            worker.Kill();
        }

        Assert.Contains("exited", await first.Failed.WaitAsync(TimeSpan.FromSeconds(30)), StringComparison.Ordinal);
        await first.DisposeAsync();
        await using var second = await sample.StartAnotherHostAsync();
        using var again = new HttpClient { BaseAddress = second.BaseAddress };
        Assert.Equal(HttpStatusCode.Accepted, (await again.PostAsync($"/api/greetings/{id}/approve", null)).StatusCode);
        var done = await StatusAsync(again, id, s => s.GetProperty("status").GetString() is "Completed" or "Failed");

        Assert.Equal("hello wang|hello wang1,hello wang2,hello wang3|approved=True", JsonSerializer.Deserialize<string>(done.GetProperty("output").GetString()!));
    }

    [Fact]
    public async Task WorkerKilled_WhileAnActivityRuns_TheActivityRunsAgainOnTheNextHost_AndTheOrchestrationCompletes()
    {
        await using var first = await sample.StartAnotherHostAsync();
        using var http = new HttpClient { BaseAddress = first.BaseAddress };
        var id = (await (await http.PostAsync("/api/slow/zhao", null)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        await StatusAsync(http, id, s => s.GetProperty("customStatus").GetString()?.Contains("slow", StringComparison.Ordinal) == true);

        // The activity (3 s) is running or about to: the worker dies under it, and nothing reports it failed.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        using (var worker = System.Diagnostics.Process.GetProcessById(first.WorkerProcessId))
        {
            worker.Kill();
        }

        await first.Failed.WaitAsync(TimeSpan.FromSeconds(30));
        await first.DisposeAsync();
        await using var second = await sample.StartAnotherHostAsync();
        using var again = new HttpClient { BaseAddress = second.BaseAddress };
        var done = await StatusAsync(again, id, s => s.GetProperty("status").GetString() is "Completed" or "Failed");

        Assert.True(done.GetProperty("status").GetString() == "Completed", done.ToString());
        Assert.Equal("slowly zhao", JsonSerializer.Deserialize<string>(done.GetProperty("output").GetString()!));
    }

    private Task<JsonElement> StatusAsync(string id, Func<JsonElement, bool> done) => StatusAsync(sample.Http, id, done);

    private static async Task<JsonElement> StatusAsync(HttpClient http, string id, Func<JsonElement, bool> done)
    {
        JsonElement last = default;
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            var response = await http.GetAsync($"/api/greetings/{id}");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                last = await response.Content.ReadFromJsonAsync<JsonElement>();
                if (done(last))
                {
                    return last;
                }
            }

            await Task.Delay(200);
        }

        Assert.Fail($"instance {id} did not get there; last status: {last}");
        return last;
    }
}
