using Azure.Data.Tables;
using System.Globalization;
using Azure;
using Loyalty.Domain.Approvals;
using Loyalty.Domain.Auth;
using Loyalty.Domain.Org;
using Loyalty.Domain.Tags;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Loyalty.Functions.Approvals;
using Loyalty.Functions.Coupons;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Notifications;
using Loyalty.Functions.Programme;
using Loyalty.Storage.Ledger;
using Loyalty.Storage.Members;
using Loyalty.Storage.Org;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Campaigns;

/// <summary>The campaign target list: <c>Campaigns</c> table, partition <c>targets-{campaignId}</c>, one row per member.</summary>
internal static class CampaignTargets
{
    public static string Partition(string campaignId) => "targets-" + campaignId;

    public static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}

/// <summary>Activity: the dormancy cut-off (chain-local) and the cost of one offer; refuses an offer whose coupon template is gone.</summary>
internal sealed class PrepareReactivation(ProgrammeConfig programme, TimeProvider time, IOptions<LoyaltyOptions> options)
{
    public const string Name = "PrepareReactivation";

    [Function(Name)]
    public async Task<ReactivationPlan> RunAsync([ActivityTrigger] ReactivationInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var today = options.Value.LocalDay(time.GetUtcNow());
        var cutoff = CampaignTargets.Day(today.AddDays(-input.NoPurchaseDays));
        if (input.Offer.Points is { } points)
        {
            // Points are valued at what they take off a price (积分抵扣), in fen.
            var rules = await programme.GetRulesAsync(CancellationToken.None);
            return new ReactivationPlan(cutoff, points * 100 / Math.Max(1, rules.Earning.OffsetPointsPerYuan), null);
        }

        var templates = await programme.GetCouponTemplatesAsync(CancellationToken.None);
        return templates.FirstOrDefault(t => t.TemplateId == input.Offer.CouponTemplateId) is { } template
            ? new ReactivationPlan(cutoff, template.FaceValue, null)
            : new ReactivationPlan(cutoff, 0, "coupon_template_unknown");
    }
}

/// <summary>
/// Activity: one page of the member table (account and profile rows): the dormant members of the segment. A real run
/// writes them to the campaign's target list (upserts, so a retried page writes the same rows); a dry run only counts.
/// </summary>
internal sealed class SelectReactivationTargets(TableStore store, MemberStore members, OrgStore org)
{
    public const string Name = "SelectReactivationTargets";
    private const int PageSize = 1000;
    private static readonly string[] Columns = ["PartitionKey", "RowKey", "Tier", "Stats", "AutoTags", "ManualTags", "StoreId", "EnrolledAt", "MarketingConsent"];

    [Function(Name)]
    public async Task<TargetPageResult> RunAsync([ActivityTrigger] TargetPage input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var tree = await org.GetRequiredAsync(CancellationToken.None);
        var filter = MemberStore.AccountAndProfileRows;
        var page = await store.Members.QueryPageAsync(filter, PageSize, TableContinuation.Decode(input.Continuation), Columns, CancellationToken.None);
        var rows = page.Items.GroupBy(r => r.PartitionKey, StringComparer.Ordinal).ToList();
        var matched = new List<TableEntity>();
        var scanned = 0;
        foreach (var member in rows)
        {
            var account = member.FirstOrDefault(MemberStore.IsAccountRow);
            if (account is null)
            {
                continue; // its account row ended the previous page, which handled it
            }

            scanned++;
            var profile = member.FirstOrDefault(MemberStore.IsProfileRow) ?? await members.GetRowAsync(member.Key, MemberStore.ProfileRow(member.Key), CancellationToken.None);
            if (profile is not null && Matches(input, account, profile, tree))
            {
                matched.Add(new TableEntity(CampaignTargets.Partition(input.CampaignId), member.Key) { ["StoreId"] = profile.GetString("StoreId") });
            }
        }

        if (!input.DryRun)
        {
            foreach (var chunk in matched.Chunk(100))
            {
                await store.Campaigns.SubmitTransactionAsync([.. chunk.Select(e => new TableTransactionAction(TableTransactionActionType.UpsertMerge, e))], CancellationToken.None);
            }
        }

        return new TargetPageResult(scanned, matched.Count, page.Continuation?.Encode());
    }

    private static bool Matches(TargetPage input, TableEntity account, TableEntity profile, OrgTree tree)
    {
        var stats = MemberStats.Parse(account.GetString("Stats"));
        var last = stats.LastPurchase ?? (profile.GetDateTimeOffset("EnrolledAt") is { } enrolled ? CampaignTargets.Day(DateOnly.FromDateTime(enrolled.UtcDateTime)) : null);
        if (last is null || string.CompareOrdinal(last, input.Cutoff) > 0)
        {
            return false;
        }

        var segment = input.Segment;
        if (segment is null)
        {
            return true;
        }

        var storeId = profile.GetString("StoreId") ?? string.Empty;
        var tags = TagRules.Split(account.GetString("AutoTags")).Concat(TagRules.Split(account.GetString("ManualTags")));
        return (segment.Tiers is not { Count: > 0 } tiers || tiers.Contains(account.GetString("Tier") ?? string.Empty, StringComparer.Ordinal))
            && (segment.Stores is not { Count: > 0 } stores || stores.Contains(storeId, StringComparer.Ordinal))
            && (segment.Regions is not { Count: > 0 } regions || regions.Any(r => tree.Contains(r, storeId)))
            && (segment.Tags is not { Count: > 0 } wanted || tags.Any(t => wanted.Contains(t, StringComparer.Ordinal)));
    }
}

/// <summary>Activity: opens the budget's approval when the policy wants one (id derived from the instance); null when it does not.</summary>
internal sealed class RequestBudgetApproval(ApprovalRequests approvals, OrgStore org)
{
    public const string Name = "RequestBudgetApproval";

    [Function(Name)]
    public async Task<string?> RunAsync([ActivityTrigger] BudgetRequest input, [DurableClient] DurableTaskClient durable)
    {
        ArgumentNullException.ThrowIfNull(input);
        var policy = await approvals.GetPolicyAsync(CancellationToken.None);
        if (!policy.NeedsApproval(ApprovalAction.CampaignBudget, input.Budget, input.RequesterRole))
        {
            return null;
        }

        var tree = await org.GetRequiredAsync(CancellationToken.None);
        var requester = new Principal(input.RequestedBy, input.RequesterRole, tree.Hq.Id);
        var id = ApprovalRequests.IdFor("campaign", input.InstanceId);
        var reason = $"唤醒活动 {input.CampaignId}：目标 {input.Targeted} 人，预计成本 {input.EstimatedCost / 100m:0.00} 元";
        var opened = await approvals.OpenAsync(requester, new ApprovalRequest(ApprovalAction.CampaignBudget, input.Budget, tree.Hq.Id, null, input.CampaignId, reason,
            new CampaignBudgetPayload(input.InstanceId)), id, input.InstanceId, tree, CancellationToken.None);
        return opened.IsSuccess ? opened.Value.Record.Id : throw new InvalidOperationException(opened.Error.Message);
    }
}

/// <summary>
/// Activity: offers up to <see cref="OfferPage.MaxGrants"/> targets from a continuation. Each grant is keyed by
/// (campaign, member), the message by the same pair, and the page's target rows are marked offered at its end (in
/// transactions of 100); a page run again after a crash re-finds its grants (counted as granted, written once) and
/// sends nothing twice.
/// </summary>
internal sealed class OfferReactivation(TableStore store, CouponIssuer issuer, ProgrammeConfig programme, NotificationOutbox outbox, MemberStore members)
{
    public const string Name = "OfferReactivation";

    [Function(Name)]
    public async Task<OfferPageResult> RunAsync([ActivityTrigger] OfferPage input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var page = await store.Campaigns.QueryPageAsync(TableFilter.Partition(CampaignTargets.Partition(input.CampaignId)), input.MaxGrants, TableContinuation.Decode(input.Continuation), cancellationToken: CancellationToken.None);
        IssuePlan plan;
        string offerText;
        if (input.Offer.Points is { } points)
        {
            plan = new IssuePlan("reactivation", null, points, [], string.Empty);
            offerText = $"送您 {points} 积分";
        }
        else
        {
            var template = (await programme.GetCouponTemplatesAsync(CancellationToken.None)).First(t => t.TemplateId == input.Offer.CouponTemplateId);
            template = input.Offer.CouponValidDays is { } days ? template with { ValidDays = days, ValidFrom = null, ValidTo = null } : template;
            plan = new IssuePlan("reactivation", null, 0, [(template, 1)], string.Empty);
            offerText = $"送您一张「{template.Name}」";
        }

        int granted = 0, notified = 0, refused = 0;
        var offered = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Parallel.ForEachAsync(page.Items, new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (target, ct) =>
        {
            var memberId = target.RowKey;

            // One point read for the name and the consent (the outbox's own consent check would read the member again),
            // made beside the grant rather than after it: the grant does not change the profile row.
            var issuing = issuer.IssueAsync(memberId, plan with { StoreId = target.GetString("StoreId") ?? string.Empty },
                new IdempotencyContext("system:reactivation:" + input.CampaignId, memberId, "reactivation"), "orchestration:" + input.InstanceId, ct);
            var reading = members.GetRowAsync(memberId, MemberStore.ProfileRow(memberId), ct);
            await Task.WhenAll(issuing, reading);
            if (await issuing is not Completed)
            {
                Interlocked.Increment(ref refused);
                return;
            }

            Interlocked.Increment(ref granted);
            var profile = await reading;
            if (profile?.GetBoolean("MarketingConsent") == true)
            {
                var text = $"{profile.GetString("Name")}，好久不见！{offerText}，{input.WindowDays} 天内到店消费即可使用。";
                if (await outbox.QueueAsync(memberId, input.CampaignId + "-offer", "reactivation_offer", text, marketing: false, ct) == OutboxResult.Queued)
                {
                    Interlocked.Increment(ref notified);
                }
            }

            offered.Add(memberId);
        });

        // The page's offered targets are marked together (one partition, a transaction per 100); a page stopped before
        // this finds its grants again when run again, and marks them then.
        foreach (var chunk in offered.Order(StringComparer.Ordinal).Chunk(100))
        {
            await store.Campaigns.SubmitTransactionAsync(
                [.. chunk.Select(id => new TableTransactionAction(TableTransactionActionType.UpsertMerge, new TableEntity(CampaignTargets.Partition(input.CampaignId), id) { ["Offered"] = true }))],
                CancellationToken.None);
        }

        return new OfferPageResult(page.Items.Count, granted, notified, refused, page.Continuation?.Encode());
    }
}

/// <summary>
/// Activity: a page of the offered targets. <c>remind</c> sends the reminder to those who have not bought since the offer
/// day; <c>measure</c> counts those who have (a purchase on or after the offer day, up to the end of the window).
/// </summary>
internal sealed class FollowUpReactivation(TableStore store, MemberStore members, NotificationOutbox outbox, IOptions<LoyaltyOptions> options)
{
    public const string Name = "FollowUpReactivation";
    private const int PageSize = 1000;

    [Function(Name)]
    public async Task<FollowUpResult> RunAsync([ActivityTrigger] FollowUpPage input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var offerDay = CampaignTargets.Day(options.Value.LocalDay(input.OfferAt));
        var windowEnd = CampaignTargets.Day(options.Value.LocalDay(input.OfferAt.AddDays(input.WindowDays)));
        var filter = $"{TableFilter.Partition(CampaignTargets.Partition(input.CampaignId))} and Offered eq true";
        var page = await store.Campaigns.QueryPageAsync(filter, PageSize, TableContinuation.Decode(input.Continuation), cancellationToken: CancellationToken.None);
        var count = 0;
        await Parallel.ForEachAsync(page.Items, new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (target, ct) =>
        {
            var account = await members.GetRowAsync(target.RowKey, MemberStore.AccountRow(target.RowKey), ct);
            var last = MemberStats.Parse(account?.GetString("Stats")).LastPurchase;
            var cameBack = last is not null && string.CompareOrdinal(last, offerDay) >= 0 && string.CompareOrdinal(last, windowEnd) <= 0;
            if (input.Kind == "measure")
            {
                if (cameBack)
                {
                    Interlocked.Increment(ref count);
                }

                return;
            }

            if (!cameBack && account is not null && await members.GetRowAsync(target.RowKey, MemberStore.ProfileRow(target.RowKey), ct) is { } profile && profile.GetBoolean("MarketingConsent") == true)
            {
                var text = $"{profile.GetString("Name")}，您的回归礼还在等您，活动 {windowEnd} 截止。";
                if (await outbox.QueueAsync(target.RowKey, input.CampaignId + "-reminder", "reactivation_reminder", text, marketing: false, ct) == OutboxResult.Queued)
                {
                    Interlocked.Increment(ref count);
                }
            }
        });
        return new FollowUpResult(page.Items.Count, count, page.Continuation?.Encode());
    }
}

/// <summary>
/// Activity: <c>campaign.completed</c> for the chain's other systems, once per campaign (its stream is the campaign, so
/// a retried activity writes the same event).
/// </summary>
internal sealed class PublishCampaignCompleted(Events.SystemEvents events)
{
    public const string Name = "PublishCampaignCompleted";

    [Function(Name)]
    public async Task<bool> RunAsync([ActivityTrigger] ReactivationResult input)
    {
        ArgumentNullException.ThrowIfNull(input);
        await events.PublishAsync("campaign-" + input.CampaignId, Loyalty.Domain.Events.EventCatalogue.CampaignCompleted, new System.Text.Json.Nodes.JsonObject
        {
            ["campaignId"] = input.CampaignId,
            ["kind"] = "reactivation",
            ["targeted"] = input.Targeted,
            ["offered"] = input.Offered,
            ["reactivated"] = input.Reactivated,
            ["rate"] = input.Rate,
            ["cost"] = input.Cost,
            ["notified"] = input.Notified,
            ["reminded"] = input.Reminded,
            ["budgetReached"] = input.BudgetReached,
        }, CancellationToken.None);
        return true;
    }
}
