using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Azure.Data.Tables;
using Loyalty.Functions.Campaigns;
using Loyalty.Functions.Tests.Support;
using Loyalty.Storage.Tables;
using Xunit;

namespace Loyalty.Functions.Tests.Durable;

/// <summary>The app with crash recovery in seconds: a message held by a host or worker that died is seen again after 10 s.</summary>
public sealed class CrashRecoveryApp : LoyaltyApp
{
    public override Dictionary<string, string> Settings(string storageConnection)
    {
        var settings = base.Settings(storageConnection);
        settings["AzureFunctionsJobHost__extensions__durableTask__storageProvider__controlQueueVisibilityTimeout"] = "00:00:10";
        settings["AzureFunctionsJobHost__extensions__durableTask__storageProvider__workItemQueueVisibilityTimeout"] = "00:00:10";
        return settings;
    }
}

/// <summary>
/// The engine's crash recovery with the app's own orchestrations: the worker process is killed, and separately the
/// whole local host (a process of its own, killed with SIGKILL), in the middle of a reactivation campaign's offers and
/// right after an approval's decision. A host started again on the same task hub finishes each instance, and every
/// effect is there once: each member's offer, the approved adjustment, balances equal to the ledger.
/// </summary>
public sealed class DurableCrashTests(CrashRecoveryApp app) : IClassFixture<CrashRecoveryApp>, IAsyncLifetime
{
    private const int Targets = 450;
    private static readonly DateOnly Today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai")).DateTime);

    /// <summary>Each test starts with the app's own host running, also after a test that failed while it was stopped.</summary>
    public async Task InitializeAsync()
    {
        if (!app.HostRunning)
        {
            await app.StartHostAsync();
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task WorkerKilled_WhileACampaignOffers_TheCampaignCompletes_AndEachMemberIsOfferedOnce()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        using var ops = app.Client(await app.KeyForAsync("ops", "hq"));
        var members = await SeedDormantAsync(admin, "hz-001");

        var id = await StartCampaignAsync(ops, "crash-worker", "hz-001");
        await WaitForOffersAsync(ops, id);
        KillWorker();

        await app.StartHostAsync();
        await FinishCampaignAsync(id, members);
    }

    [Fact]
    public async Task HostKilled_WhileACampaignOffers_TheCampaignCompletes_AndEachMemberIsOfferedOnce()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var opsKey = await app.KeyForAsync("ops", "hq");
        var members = await SeedDormantAsync(admin, "gz-001");

        await app.StopHostAsync();
        await using (var host = await HostProcess.StartAsync(app))
        {
            using var ops = app.Client(opsKey, host.BaseAddress);
            var id = await StartCampaignAsync(ops, "crash-host", "gz-001");
            await WaitForOffersAsync(ops, id);
            host.Kill();
        }

        await app.StartHostAsync();
        await FinishCampaignAsync(Reactivation.InstanceId("crash-host"), members);
    }

    [Fact]
    public async Task WorkerKilled_RightAfterAnApprovalsDecision_TheAdjustmentIsAppliedOnce()
    {
        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        using var manager = app.Client(await app.KeyForAsync("storeManager", "sh-001"));
        var (memberId, _) = await app.EnrolAsync();
        var approvalId = await RequestAdjustmentAsync(terminal, memberId);
        await WaitForApprovalAsync(manager, approvalId, "pending", s => s.GetProperty("waitingFor").GetString() == "store");

        Assert.Equal(HttpStatusCode.Accepted, (await manager.PostAsync($"/api/approvals/{approvalId}/decision", new { approve = true }, null)).StatusCode);
        KillWorker();

        await app.StartHostAsync();
        await AssertAppliedOnceAsync(memberId, approvalId);
    }

    [Fact]
    public async Task HostKilled_RightAfterAnApprovalsDecision_TheAdjustmentIsAppliedOnce()
    {
        var terminalKey = await app.KeyForAsync("terminal", "sh-001");
        var managerKey = await app.KeyForAsync("storeManager", "sh-001");
        var (memberId, _) = await app.EnrolAsync();

        await app.StopHostAsync();
        string approvalId;
        await using (var host = await HostProcess.StartAsync(app))
        {
            using var terminal = app.Client(terminalKey, host.BaseAddress);
            using var manager = app.Client(managerKey, host.BaseAddress);
            approvalId = await RequestAdjustmentAsync(terminal, memberId);
            await WaitForApprovalAsync(manager, approvalId, "pending", s => s.GetProperty("waitingFor").GetString() == "store");
            Assert.Equal(HttpStatusCode.Accepted, (await manager.PostAsync($"/api/approvals/{approvalId}/decision", new { approve = true }, null)).StatusCode);
            host.Kill();
        }

        await app.StartHostAsync();
        await AssertAppliedOnceAsync(memberId, approvalId);
    }

    [Fact]
    public async Task WorkerKilled_WhileABatchImportsMembers_EachRowIsImportedOnce_WithItsOpeningPointsOnce()
    {
        const int Rows = 600;
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var phones = Enumerable.Range(0, Rows).Select(_ => LoyaltyApp.NewPhone()).ToList();
        var csv = "phone,name,storeId,points,reason\n" + string.Concat(phones.Select(p => $"{p},迁移会员,sh-001,100,旧系统\n"));
        using var upload = new HttpRequestMessage(HttpMethod.Post, "/api/batches?kind=members") { Content = new StringContent(csv, System.Text.Encoding.UTF8, "text/csv") };
        upload.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        var accepted = await admin.SendAsync(upload);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var batchId = (await accepted.JsonAsync()).GetProperty("batchId").GetString()!;

        // Killed once the first rows are in, with most of the first wave still to do.
        await Api.EventuallyAsync(async () => (await admin.GetAsync(new Uri($"/api/members?phone={phones[0]}", UriKind.Relative))).StatusCode == HttpStatusCode.OK, "the first row imported");
        KillWorker();
        var lastRow = Loyalty.Domain.Members.MemberId.FromSeed($"batch\n{batchId}\n{Rows + 1}");
        Assert.False((await app.Store.Members.GetEntityIfExistsAsync<TableEntity>(lastRow, Storage.Members.MemberStore.AccountRow(lastRow))).HasValue, "the worker died with rows still to import");
        await app.StartHostAsync();

        // The host started again listens on a port of its own.
        using var after = app.Client(LoyaltyApp.AdminKey);
        JsonElement view = default;
        await Api.EventuallyAsync(async () => (view = await after.GetJsonAsync($"/api/batches/{batchId}")).GetProperty("status").GetString() is "completed" or "failed", batchId + " to finish");
        Assert.Equal(("completed", Rows, 0), (view.GetProperty("status").GetString(), view.GetProperty("done").GetInt32(), view.GetProperty("failed").GetInt32()));
        await Parallel.ForEachAsync(phones, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (phone, _) =>
        {
            var memberId = (await after.GetJsonAsync($"/api/members?phone={phone}")).GetProperty("memberId").GetString()!;
            Assert.Equal(100, (await after.BalancesAsync(memberId)).Points);
            Assert.Equal(1, await after.LedgerCountAsync(memberId));
        });
        Assert.True((await after.PostOkAsync("/api/ops/reconcile", new { })).GetProperty("ok").GetBoolean());
    }

    private void KillWorker()
    {
        using var worker = Process.GetProcessById(app.Host.WorkerProcessId);
        worker.Kill();
        worker.WaitForExit();
    }

    // Members of one store whose last purchase was 200 days ago (the statistics a purchase that day would have left).
    private async Task<List<string>> SeedDormantAsync(HttpClient admin, string storeId)
    {
        var members = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Parallel.ForEachAsync(Enumerable.Range(0, Targets), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (_, ct) =>
        {
            var body = await admin.PostOkAsync("/api/members", new { phone = LoyaltyApp.NewPhone(), name = "沉睡会员", storeId, marketingConsent = false });
            var memberId = body.GetProperty("memberId").GetString()!;
            var row = (await app.Store.Members.FindEntityAsync(memberId, Storage.Members.MemberStore.AccountRow(memberId), ct))!;
            row["Stats"] = JsonSerializer.Serialize(new { l = Today.AddDays(-200).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) });
            await app.Store.Members.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, ct);
            members.Add(memberId);
        });
        return [.. members];
    }

    private static async Task<string> StartCampaignAsync(HttpClient ops, string campaignId, string storeId)
    {
        var start = await ops.PostAsync($"/api/orchestrations/{Reactivation.Name}", new
        {
            campaignId,
            noPurchaseDays = 90,
            segment = new { stores = new[] { storeId } },
            offer = new { points = 500 },
            windowDays = 3,
        }, null);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        return (await start.JsonAsync()).GetProperty("id").GetString()!;
    }

    // Until the first page of offers is in (the next is being granted as the test goes on to kill).
    private static Task WaitForOffersAsync(HttpClient ops, string instanceId) =>
        Api.EventuallyAsync(async () =>
        {
            var state = await ops.GetJsonAsync($"/api/orchestrations/{instanceId}");
            return state.TryGetProperty("customStatus", out var status) && status.ValueKind == JsonValueKind.Object
                && status.GetProperty("phase").GetString() == "offering" && status.GetProperty("offered").GetInt32() > 0;
        }, instanceId + " to offer");

    private async Task FinishCampaignAsync(string instanceId, List<string> members)
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        await Api.EventuallyAsync(async () =>
        {
            var state = await admin.GetJsonAsync($"/api/orchestrations/{instanceId}");
            return state.TryGetProperty("customStatus", out var status) && status.ValueKind == JsonValueKind.Object && status.GetProperty("phase").GetString() == "waitingForWindow";
        }, instanceId + " to wait for its window");
        Assert.Equal(HttpStatusCode.Accepted, (await admin.PostAsync($"/api/orchestrations/{instanceId}/events/{Reactivation.SkipWaitEvent}", new { }, Guid.NewGuid().ToString())).StatusCode);
        JsonElement state = default;
        await Api.EventuallyAsync(async () => (state = await admin.GetJsonAsync($"/api/orchestrations/{instanceId}")).GetProperty("runtimeStatus").GetString() is "Completed" or "Failed", instanceId + " to finish");

        Assert.Equal("Completed", state.GetProperty("runtimeStatus").GetString());
        var output = state.GetProperty("output");
        Assert.Equal((Targets, Targets), (output.GetProperty("targeted").GetInt32(), output.GetProperty("offered").GetInt32()));
        await Parallel.ForEachAsync(members, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (memberId, _) =>
        {
            Assert.Equal(500, (await admin.BalancesAsync(memberId)).Points);
            Assert.Equal(1, await admin.LedgerCountAsync(memberId));
        });
        Assert.True((await admin.PostOkAsync("/api/ops/reconcile", new { })).GetProperty("ok").GetBoolean());
    }

    private static async Task<string> RequestAdjustmentAsync(HttpClient terminal, string memberId)
    {
        var response = await terminal.PostAsync($"/api/members/{memberId}/adjustments", new { points = 200, reason = "补录" }, Guid.NewGuid().ToString());
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.JsonAsync()).GetProperty("approvalId").GetString()!;
    }

    private static Task WaitForApprovalAsync(HttpClient client, string approvalId, string status, Func<JsonElement, bool> also) =>
        Api.EventuallyAsync(async () =>
        {
            var approval = await client.GetJsonAsync($"/api/approvals/{approvalId}");
            return approval.GetProperty("status").GetString() == status && also(approval);
        }, $"approval {approvalId} {status}");

    private async Task AssertAppliedOnceAsync(string memberId, string approvalId)
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        await WaitForApprovalAsync(admin, approvalId, "applied", _ => true);
        await Api.EventuallyAsync(async () =>
            (await admin.GetJsonAsync($"/api/orchestrations/approval-{approvalId}")).GetProperty("runtimeStatus").GetString() == "Completed", "the approval's instance to complete");
        Assert.Equal(200, (await admin.BalancesAsync(memberId)).Points);
        Assert.Equal(1, await admin.LedgerCountAsync(memberId));
        Assert.True((await admin.PostOkAsync("/api/ops/reconcile", new { })).GetProperty("ok").GetBoolean());
    }

    /// <summary>The local host as a process of its own (as run-local.sh runs it), so a test can kill it outright.</summary>
    private sealed class HostProcess : IAsyncDisposable
    {
        private readonly Process _process;

        private HostProcess(Process process, Uri baseAddress)
        {
            _process = process;
            BaseAddress = baseAddress;
        }

        public Uri BaseAddress { get; }

        public static async Task<HostProcess> StartAsync(LoyaltyApp app)
        {
            int port;
            using (var probe = new TcpListener(IPAddress.Loopback, 0))
            {
                probe.Start();
                port = ((IPEndPoint)probe.LocalEndpoint).Port;
            }

            var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, "Loyalty.LocalHost.dll"), "--app", app.HostSettings.AppDirectory, "--port", port.ToString(CultureInfo.InvariantCulture) })
            {
                start.ArgumentList.Add(argument);
            }

            foreach (var (key, value) in app.HostSettings.Values)
            {
                start.Environment[key] = value;
            }

            var process = Process.Start(start)!;
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var host = new HostProcess(process, new Uri($"http://127.0.0.1:{port}/"));
            try
            {
                using var http = new HttpClient { BaseAddress = host.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
                await Api.EventuallyAsync(async () =>
                {
                    Assert.False(process.HasExited, "the host process exited");
                    try
                    {
                        return (await http.GetAsync("/api/health")).IsSuccessStatusCode;
                    }
                    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                    {
                        return false; // not listening yet, or too busy starting to answer within the probe's time-out
                    }
                }, "the host process to answer");
                return host;
            }
            catch
            {
                await host.DisposeAsync();
                throw;
            }
        }

        /// <summary>SIGKILL: the host gets no chance to stop anything; its orphan guard takes the worker down.</summary>
        public void Kill()
        {
            _process.Kill();
            _process.WaitForExit();
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            await _process.WaitForExitAsync();
            _process.Dispose();
        }
    }
}
