using System.Net;
using System.Text.Json;
using Loyalty.Durable.Model;
using Loyalty.Functions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Loyalty.Functions.Tests.Durable;

/// <summary>An orchestration for the management API tests: waits for "go", then asks an activity to greet.</summary>
internal sealed class WaitThenGreet : TaskOrchestrator<string, string>
{
    public override async Task<string> RunAsync(TaskOrchestrationContext context, string input)
    {
        context.SetCustomStatus(new { phase = "waiting" });
        var (received, who) = await context.WaitForExternalEvent<string>("go", TimeSpan.FromHours(1), input);
        return await context.CallActivityAsync<string>("Greet", received ? who : input);
    }
}

internal sealed class GreetActivity : TaskActivity<string, string>
{
    public override Task<string> RunAsync(TaskActivityContext context, string input) => Task.FromResult($"hello {input}");
}

/// <summary>The app in local mode: its dispatchers poll the durable queues.</summary>
public sealed class OrchestrationApp : LoyaltyApp
{
    public OrchestrationApp() =>
        _ = Services.GetRequiredService<OrchestrationRegistry>()
            .AddOrchestrator("WaitThenGreet", () => new WaitThenGreet())
            .AddActivity("Greet", () => new GreetActivity());
}

public sealed class OrchestrationsApiTests(OrchestrationApp app) : IClassFixture<OrchestrationApp>
{
    [Fact]
    public async Task Start_Returns202WithDurableLinks_StatusRunsThenCompletes()
    {
        using var ops = app.Client(await app.KeyForAsync("ops", "hq"));

        var start = await ops.PostAsync("/api/orchestrations/WaitThenGreet", "zhang", null);
        var links = await start.JsonAsync();
        var id = links.GetProperty("id").GetString()!;
        var running = await ops.GetAsync($"/api/orchestrations/{id}");
        await Api.EventuallyAsync(async () => (await (await ops.GetAsync($"/api/orchestrations/{id}")).JsonAsync()).TryGetProperty("customStatus", out var status) && status.ValueKind == JsonValueKind.Object, "the instance to start");
        var raised = await ops.PostAsync($"/api/orchestrations/{id}/events/go", "li", "evt-1");
        JsonElement done = default;
        await Api.EventuallyAsync(
            async () =>
            {
                var response = await ops.GetAsync($"/api/orchestrations/{id}");
                done = await response.JsonAsync();
                return response.StatusCode == HttpStatusCode.OK;
            },
            "the instance to complete");

        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        foreach (var link in new[] { "statusQueryGetUri", "sendEventPostUri", "terminatePostUri", "purgeHistoryDeleteUri" })
        {
            Assert.Contains($"/api/orchestrations/{id}", links.GetProperty(link).GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.Accepted, running.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, raised.StatusCode);
        Assert.Equal("Completed", done.GetProperty("runtimeStatus").GetString());
        Assert.Equal("hello li", done.GetProperty("output").GetString());
        Assert.Equal("zhang", done.GetProperty("input").GetString());
        await (await ops.PostAsync($"/api/orchestrations/{id}/terminate", new { }, null)).AssertProblemAsync(HttpStatusCode.Gone, "instance_finished");
        await (await ops.PostAsync($"/api/orchestrations/{id}/events/go", "x", null)).AssertProblemAsync(HttpStatusCode.Gone, "instance_finished");
        Assert.Contains((await ops.GetJsonAsync("/api/orchestrations?name=WaitThenGreet&status=completed")).GetProperty("items").EnumerateArray(), i => i.GetProperty("instanceId").GetString() == id);
        Assert.Equal(HttpStatusCode.OK, (await ops.DeleteAsync($"/api/orchestrations/{id}")).StatusCode);
        await (await ops.GetAsync($"/api/orchestrations/{id}")).AssertProblemAsync(HttpStatusCode.NotFound, "instance_not_found");
    }

    [Fact]
    public async Task StartWithAnInstanceId_Twice_IsOneInstance_TerminateStopsIt()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var id = "campaign-" + Guid.NewGuid().ToString("N")[..8];

        var first = await (await admin.PostAsync($"/api/orchestrations/WaitThenGreet?instanceId={id}", "a", null)).JsonAsync();
        var second = await (await admin.PostAsync($"/api/orchestrations/WaitThenGreet?instanceId={id}", "b", null)).JsonAsync();
        var terminated = await admin.PostAsync($"/api/orchestrations/{id}/terminate?reason=budget%20cut", new { }, null);
        var state = await (await admin.GetAsync($"/api/orchestrations/{id}")).JsonAsync();

        Assert.Equal(id, first.GetProperty("id").GetString());
        Assert.Equal(id, second.GetProperty("id").GetString());
        Assert.Equal(HttpStatusCode.Accepted, terminated.StatusCode);
        Assert.Equal("Terminated", state.GetProperty("runtimeStatus").GetString());
        Assert.Equal("a", state.GetProperty("input").GetString());
        Assert.Equal("budget cut", state.GetProperty("output").GetString());
    }

    [Fact]
    public async Task OnlyOpsAndHqAdmins_UnknownNamesAndIds_404()
    {
        using var manager = app.Client(await app.KeyForAsync("regionManager", "east"));
        using var admin = app.Client(LoyaltyApp.AdminKey);

        await (await manager.PostAsync("/api/orchestrations/WaitThenGreet", "x", null)).AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden_role");
        await (await manager.GetAsync("/api/orchestrations")).AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden_role");
        await (await admin.PostAsync("/api/orchestrations/NoSuchThing", "x", null)).AssertProblemAsync(HttpStatusCode.NotFound, "orchestration_unknown");
        await (await admin.GetAsync("/api/orchestrations/nope")).AssertProblemAsync(HttpStatusCode.NotFound, "instance_not_found");
        await (await admin.GetAsync("/api/orchestrations?status=sleeping")).AssertProblemAsync(HttpStatusCode.BadRequest, "status_invalid");
    }
}
