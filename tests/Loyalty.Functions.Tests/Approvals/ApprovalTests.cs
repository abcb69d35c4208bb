using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Loyalty.Functions.Approvals;
using Loyalty.Functions.Tests.Support;
using Loyalty.Storage.Approvals;
using Loyalty.Storage.Notifications;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Loyalty.Functions.Tests.Approvals;

/// <summary>Approvals end to end on Azurite through HTTP: the local-mode durable dispatcher runs the workflow.</summary>
public sealed class ApprovalTests(LoyaltyApp app) : IClassFixture<LoyaltyApp>
{
    [Fact]
    public async Task Adjustment_GoesUpStoreThenRegion_ChecksEveryDecider_AndIsAppliedOnce()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        using var manager = app.Client(await app.KeyForAsync("storeManager", "sh-001"));
        using var otherManager = app.Client(await app.KeyForAsync("storeManager", "gz-001"));
        using var region = app.Client(await app.KeyForAsync("regionManager", "east"));
        using var otherRegion = app.Client(await app.KeyForAsync("regionManager", "south"));
        var (memberId, _) = await app.EnrolAsync();
        var key = Guid.NewGuid().ToString();

        var requested = await terminal.PostAsync($"/api/members/{memberId}/adjustments", new { points = 800, reason = "补录漏积分" }, key);
        Assert.Equal(HttpStatusCode.Accepted, requested.StatusCode);
        var approval = await requested.JsonAsync();
        var id = approval.GetProperty("approvalId").GetString()!;
        var requester = approval.GetProperty("requestedBy").GetString()!;
        Assert.Equal(("store", "sh-001"), (approval.GetProperty("waitingFor").GetString(), approval.GetProperty("waitingScopeId").GetString()));

        // The same request again finds the same approval; another request under the key is refused.
        var again = await terminal.PostAsync($"/api/members/{memberId}/adjustments", new { points = 800, reason = "补录漏积分" }, key);
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        Assert.Equal(id, (await again.JsonAsync()).GetProperty("approvalId").GetString());
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());
        await (await terminal.PostAsync($"/api/members/{memberId}/adjustments", new { points = 900, reason = "补录漏积分" }, key))
            .AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "idempotency_key_reused");

        // Only the waiting level, within scope, sees it pending and may decide it.
        Assert.Contains(id, await PendingAsync(manager));
        Assert.DoesNotContain(id, await PendingAsync(otherManager));
        Assert.DoesNotContain(id, await PendingAsync(region));
        await (await otherManager.PostAsync($"/api/approvals/{id}/decision", new { approve = true }, null)).AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden_scope");
        await (await region.PostAsync($"/api/approvals/{id}/decision", new { approve = true }, null)).AssertProblemAsync(HttpStatusCode.Forbidden, "approval_level_mismatch");
        await (await terminal.PostAsync($"/api/approvals/{id}/decision", new { approve = true }, null)).AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden_role");
        await (await manager.PostAsync($"/api/approvals/{id}/decision", new { comment = "no verdict" }, null)).AssertProblemAsync(HttpStatusCode.BadRequest, "approve_required");
        await (await manager.PostAsync("/api/approvals/ap-nope/decision", new { approve = true }, null)).AssertProblemAsync(HttpStatusCode.NotFound, "approval_not_found");
        await (await otherManager.GetAsync($"/api/approvals/{id}")).AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden_scope");

        // 800 points is above the store's 500: the store manager's approval sends it up to the region.
        Assert.Equal(HttpStatusCode.Accepted, (await manager.PostAsync($"/api/approvals/{id}/decision", new { approve = true, comment = "核实无误" }, null)).StatusCode);
        JsonElement stage = default;
        await Api.EventuallyAsync(async () => (stage = await admin.GetJsonAsync($"/api/approvals/{id}")).GetProperty("waitingFor").GetString() == "region", "the region level", () => DescribeAsync(id, stage));
        Assert.Equal(0, (await admin.BalancesAsync(memberId)).Points);
        Assert.Contains(id, await PendingAsync(region));
        await (await otherRegion.PostAsync($"/api/approvals/{id}/decision", new { approve = true }, null)).AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden_scope");

        Assert.Equal(HttpStatusCode.Accepted, (await region.PostAsync($"/api/approvals/{id}/decision", new { approve = true }, null)).StatusCode);
        var done = await WaitForStatusAsync(admin, id, "applied");

        Assert.Equal(800, (await admin.BalancesAsync(memberId)).Points);
        Assert.Equal(1, await admin.LedgerCountAsync(memberId));
        Assert.Equal(["requested", "approved", "approved", "applied"], done.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("kind").GetString()));
        Assert.Equal(800, done.GetProperty("result").GetProperty("balances").GetProperty("points").GetInt64());
        Assert.Contains(id, (await admin.GetJsonAsync("/api/approvals?status=applied")).GetProperty("items").EnumerateArray().Select(i => i.GetProperty("approvalId").GetString()));
        Assert.DoesNotContain(id, await PendingAsync(region));
        await (await region.PostAsync($"/api/approvals/{id}/decision", new { approve = false }, null)).AssertProblemAsync(HttpStatusCode.Conflict, "approval_closed");

        // Approvers were asked, each level in turn, and the requester was told.
        var notifications = app.Services.GetRequiredService<NotificationStore>();
        Assert.Equal("approval_needed", (await notifications.GetAsync(ApprovalRecipients.Scope("sh-001"), id + "-0"))!.Template);
        Assert.Equal("approval_needed", (await notifications.GetAsync(ApprovalRecipients.Scope("east"), id + "-1"))!.Template);
        var told = await notifications.GetAsync(ApprovalRecipients.Principal(requester), id + "-decided");
        Assert.Contains("已批准并执行", told!.Text, StringComparison.Ordinal);

        // The replayed request still answers with the approval (now applied), and applies nothing again.
        var replay = await terminal.PostAsync($"/api/members/{memberId}/adjustments", new { points = 800, reason = "补录漏积分" }, key);
        Assert.Equal("applied", (await replay.JsonAsync()).GetProperty("status").GetString());
        Assert.Equal(800, (await admin.BalancesAsync(memberId)).Points);
    }

    [Fact]
    public async Task StoredValueRefund_AboveTheThreshold_Rejected_ChangesNothing_AndTellsTheRequester()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        using var manager = app.Client(await app.KeyForAsync("storeManager", "sh-001"));
        var (memberId, card) = await app.EnrolAsync();
        await admin.PostOkAsync($"/api/members/{memberId}/top-ups", new { amount = 100_000, storeId = "sh-001" }, Guid.NewGuid().ToString());

        // Within the threshold (500 yuan) it is paid back at once, from principal only.
        var small = await terminal.PostOkAsync($"/api/members/{memberId}/stored-value-refunds", new { amount = 10_000, storeId = "sh-001", reason = "会员退卡" }, Guid.NewGuid().ToString());
        Assert.Equal(90_000, small.GetProperty("balances").GetProperty("storedValue").GetProperty("principal").GetInt64());

        // Refusals write nothing and open no approval.
        await (await terminal.PostAsync($"/api/members/{memberId}/stored-value-refunds", new { amount = 900_000, storeId = "sh-001", reason = "x" }, Guid.NewGuid().ToString()))
            .AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "insufficient_stored_value");
        await (await terminal.PostAsync("/api/members/m-unknown0000000000/stored-value-refunds", new { amount = 60_000, storeId = "sh-001", reason = "x" }, Guid.NewGuid().ToString()))
            .AssertProblemAsync(HttpStatusCode.NotFound, "member_not_found");
        await (await terminal.PostAsync($"/api/members/{memberId}/stored-value-refunds", new { amount = 0, storeId = "sh-001", reason = "x" }, Guid.NewGuid().ToString()))
            .AssertProblemAsync(HttpStatusCode.BadRequest, "amount_invalid");
        await (await terminal.PostAsync($"/api/members/{memberId}/stored-value-refunds", new { amount = 100, storeId = "gz-001", reason = "x" }, Guid.NewGuid().ToString()))
            .AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden_scope");
        Assert.Empty(await PendingAsync(manager));

        var requested = await terminal.PostAsync($"/api/members/{memberId}/stored-value-refunds", new { amount = 60_000, storeId = "sh-001", reason = "会员退卡" }, Guid.NewGuid().ToString());
        Assert.Equal(HttpStatusCode.Accepted, requested.StatusCode);
        var id = (await requested.JsonAsync()).GetProperty("approvalId").GetString()!;
        Assert.Equal(HttpStatusCode.Accepted, (await manager.PostAsync($"/api/approvals/{id}/decision", new { approve = false, comment = "需本人到店" }, null)).StatusCode);
        var rejected = await WaitForStatusAsync(admin, id, "rejected");

        Assert.Equal("需本人到店", rejected.GetProperty("steps")[1].GetProperty("comment").GetString());
        // The small refund took its share of the top-up's bonus (10% of 12,000); the rejected one took nothing.
        Assert.Equal((0L, 90_000L, 10_800L), await admin.BalancesAsync(memberId));
        Assert.Equal(2, await admin.LedgerCountAsync(memberId));
        var told = await app.Services.GetRequiredService<NotificationStore>().GetAsync(ApprovalRecipients.Principal(rejected.GetProperty("requestedBy").GetString()!), id + "-decided");
        Assert.Contains("被驳回", told!.Text, StringComparison.Ordinal);

        // A frozen card protects the money: no refund at all.
        await manager.PostOkAsync($"/api/cards/{card}/freeze", new { });
        await (await terminal.PostAsync($"/api/members/{memberId}/stored-value-refunds", new { amount = 100, storeId = "sh-001", reason = "x" }, Guid.NewGuid().ToString()))
            .AssertProblemAsync(HttpStatusCode.Conflict, "no_active_card");
    }

    [Fact]
    public async Task TwoManagersDecidingAtOnce_OneWins_TheOtherGets409()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        using var terminal = app.Client(await app.KeyForAsync("terminal", "hz-001"));
        var managers = new[] { app.Client(await app.KeyForAsync("storeManager", "hz-001")), app.Client(await app.KeyForAsync("storeManager", "hz-001")) };
        var (memberId, _) = await app.EnrolAsync("hz-001");
        var id = (await (await terminal.PostAsync($"/api/members/{memberId}/adjustments", new { points = 300, reason = "活动补偿" }, Guid.NewGuid().ToString())).JsonAsync())
            .GetProperty("approvalId").GetString()!;

        var answers = await Task.WhenAll(managers.Select((m, i) => m.PostAsync($"/api/approvals/{id}/decision", new { approve = i == 0 }, null)));

        Assert.Single(answers, a => a.StatusCode == HttpStatusCode.Accepted);
        Assert.Single(answers, a => a.StatusCode == HttpStatusCode.Conflict);
        var winner = Array.FindIndex(answers, a => a.StatusCode == HttpStatusCode.Accepted);
        await WaitForStatusAsync(admin, id, winner == 0 ? "applied" : "rejected");
        Assert.Equal(winner == 0 ? 300 : 0, (await admin.BalancesAsync(memberId)).Points);
        foreach (var m in managers)
        {
            m.Dispose();
        }
    }

    [Fact]
    public async Task ADecisionTakenBeforeItsStageOpens_IsKept_SoASecondDeciderIsTooLate()
    {
        using var terminal = app.Client(await app.KeyForAsync("terminal", "hz-001"));
        using var manager = app.Client(await app.KeyForAsync("storeManager", "hz-001"));
        using var otherManager = app.Client(await app.KeyForAsync("storeManager", "hz-001"));
        var (memberId, _) = await app.EnrolAsync("hz-001");
        var id = (await (await terminal.PostAsync($"/api/members/{memberId}/adjustments", new { points = 300, reason = "活动补偿" }, Guid.NewGuid().ToString())).JsonAsync())
            .GetProperty("approvalId").GetString()!;

        // A copy of the request that no workflow runs, so the test chooses when its stage opens: after the decision.
        var store = app.Services.GetRequiredService<ApprovalStore>();
        var original = (await store.GetAsync(id))!;
        var copy = original with { Id = ApprovalRequests.IdFor("test", Guid.NewGuid().ToString()), Decision = null, Steps = [original.Steps[0]] };
        Assert.True(await store.CreateAsync(copy));
        Assert.Equal(HttpStatusCode.Accepted, (await manager.PostAsync($"/api/approvals/{copy.Id}/decision", new { approve = false, comment = "先驳回" }, null)).StatusCode);

        // The workflow's own due time differs from the one the request was opened with, so opening rewrites the record.
        var due = copy.DueAt!.Value.AddSeconds(3);
        var open = ActivatorUtilities.CreateInstance<OpenApprovalStage>(app.Services);
        var kept = await open.RunAsync(new StageOpening(copy.Id, 0, due, false));
        Assert.Equal((false, "先驳回"), (kept!.Approve, kept.Comment));

        var opened = (await store.GetAsync(copy.Id))!;
        Assert.Equal(due, opened.DueAt);
        Assert.Equal((0, false, "先驳回"), (opened.Decision!.Stage, opened.Decision.Approve, opened.Decision.Comment));
        await (await otherManager.PostAsync($"/api/approvals/{copy.Id}/decision", new { approve = true }, null)).AssertProblemAsync(HttpStatusCode.Conflict, "approval_already_decided");
    }

    [Fact]
    public async Task ApplyingTwice_AfterACrashBetweenApplyAndRecord_AppliesOnce()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        using var manager = app.Client(await app.KeyForAsync("storeManager", "sh-001"));
        var (memberId, _) = await app.EnrolAsync();
        var id = (await (await terminal.PostAsync($"/api/members/{memberId}/adjustments", new { points = 200, reason = "补录" }, Guid.NewGuid().ToString())).JsonAsync())
            .GetProperty("approvalId").GetString()!;

        // A first CloseApproval that applied the adjustment and died before recording it: the write happened once.
        var store = app.Services.GetRequiredService<ApprovalStore>();
        var applier = app.Services.GetServices<IApprovedAction>().Single(a => a.Action == Domain.Approvals.ApprovalAction.PointsAdjustment);
        await applier.ApplyAsync((await store.GetAsync(id))!, CancellationToken.None);
        Assert.Equal(200, (await admin.BalancesAsync(memberId)).Points);

        // The approval then goes through; applying again replays the stored result instead of writing twice.
        Assert.Equal(HttpStatusCode.Accepted, (await manager.PostAsync($"/api/approvals/{id}/decision", new { approve = true }, null)).StatusCode);
        await WaitForStatusAsync(admin, id, "applied");
        var close = ActivatorUtilities.CreateInstance<CloseApproval>(app.Services);
        var outcome = await close.RunAsync(new ApprovalClosing(id, 0, "approved", "again", null), app.DurableClient());

        Assert.Equal("applied", outcome.Status);
        Assert.Equal(200, (await admin.BalancesAsync(memberId)).Points);
        Assert.Equal(1, await admin.LedgerCountAsync(memberId));
        var reconcile = await admin.PostOkAsync("/api/ops/reconcile", new { });
        Assert.True(reconcile.GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task Unfreeze_WhenThePolicyAsks_WaitsForTheRegion()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        using var manager = app.Client(await app.KeyForAsync("storeManager", "gz-001"));
        using var region = app.Client(await app.KeyForAsync("regionManager", "south"));
        var (memberId, card) = await app.EnrolAsync("gz-001");
        await admin.PostOkAsync($"/api/members/{memberId}/top-ups", new { amount = 5_000, storeId = "gz-001" }, Guid.NewGuid().ToString());
        await manager.PostOkAsync($"/api/cards/{card}/freeze", new { });
        try
        {
            await admin.PutConfigAsync(ApprovalRequests.PolicySection, new
            {
                actions = new object[] { new { action = "cardUnfreeze", approvalAbove = 1_000, levels = new[] { new { level = "region", timeLimitHours = 24, onTimeout = "expire" } } } },
            });

            var requested = await manager.PostAsync($"/api/cards/{card}/unfreeze", new { reason = "本人持证件到店" }, Guid.NewGuid().ToString());
            Assert.Equal(HttpStatusCode.Accepted, requested.StatusCode);
            var id = (await requested.JsonAsync()).GetProperty("approvalId").GetString()!;
            Assert.Equal("frozen", await CardStatusAsync(admin, memberId));

            Assert.Equal(HttpStatusCode.Accepted, (await region.PostAsync($"/api/approvals/{id}/decision", new { approve = true }, null)).StatusCode);
            await WaitForStatusAsync(admin, id, "applied");
            Assert.Equal("active", await CardStatusAsync(admin, memberId));
        }
        finally
        {
            await admin.PutConfigAsync(ApprovalRequests.PolicySection, new { actions = Array.Empty<object>() });
        }
    }

    [Fact]
    public async Task Policy_IsValidatedWhenPut()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var response = await admin.PutAsJsonAsync("/api/config/approval-policy", new
        {
            value = new
            {
                actions = new[] { new { action = "storedValueRefund", approvalAbove = 100, levels = new[] { new { level = "store", maxAmount = 500, timeLimitHours = 24, onTimeout = "escalate" } } } },
            },
        });

        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "config_invalid");
    }

    private static async Task<List<string>> PendingAsync(HttpClient client) =>
        [.. (await client.GetJsonAsync("/api/approvals?status=pending")).GetProperty("items").EnumerateArray().Select(i => i.GetProperty("approvalId").GetString()!)];

    private async Task<JsonElement> WaitForStatusAsync(HttpClient admin, string id, string status)
    {
        JsonElement last = default;
        await Api.EventuallyAsync(async () => (last = await admin.GetJsonAsync($"/api/approvals/{id}")).GetProperty("status").GetString() == status, "approval " + status, () => DescribeAsync(id, last));
        return last;
    }

    /// <summary>For a time-out's message: the approval last read, and where its workflow instance stands.</summary>
    private async Task<string> DescribeAsync(string id, JsonElement approval)
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        var instance = await admin.GetAsync($"/api/orchestrations/{ApprovalWorkflow.InstanceId(id)}");
        return $"Approval last read: {approval}. Instance: {(int)instance.StatusCode} {await instance.Content.ReadAsStringAsync()}, now {DateTimeOffset.UtcNow:HH:mm:ss.fff}.";
    }

    private static async Task<string?> CardStatusAsync(HttpClient admin, string memberId) =>
        (await admin.GetJsonAsync($"/api/members/{memberId}")).GetProperty("cards")[0].GetProperty("status").GetString();
}
