using System.Collections.Concurrent;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Loyalty.Functions.Coupons;
using Loyalty.Functions.Durable;
using Loyalty.Storage.Ledger;
using Loyalty.Storage.Members;

namespace Loyalty.Functions.Campaigns;

/// <summary>Input of <see cref="GiftPackCampaign"/>: a campaign id, a gift pack and the members who receive it.</summary>
/// <param name="CampaignId">Names the grant: each member receives the pack once per campaign id, whatever the instance.</param>
/// <param name="GiftPackId">The pack (points and coupons).</param>
/// <param name="MemberIds">Recipients (up to <see cref="GiftPackCampaign.MaxMembers"/>).</param>
/// <param name="BatchSize">Members per activity call (1-100).</param>
internal sealed record GiftPackCampaignInput(string CampaignId, string GiftPackId, IReadOnlyList<string> MemberIds, int BatchSize = 50);

/// <summary>What a batch (and the whole campaign) did: granted (now or by an earlier attempt) and refused by reason.</summary>
internal sealed record GrantTally(int Granted, IReadOnlyDictionary<string, int> Refused)
{
    public static GrantTally Empty { get; } = new(0, new Dictionary<string, int>());

    [System.Text.Json.Serialization.JsonIgnore]
    public int RefusedCount => Refused.Values.Sum();

    public GrantTally Add(GrantTally other) => new(
        Granted + other.Granted,
        Refused.Concat(other.Refused).GroupBy(p => p.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Sum(p => p.Value), StringComparer.Ordinal));
}

/// <summary>Input of one <see cref="GrantGiftPackBatch"/> call.</summary>
internal sealed record GrantBatch(string CampaignId, string GiftPackId, IReadOnlyList<string> MemberIds, string InstanceId);

/// <summary>The campaign's result.</summary>
internal sealed record GiftPackCampaignResult(string CampaignId, string GiftPackId, int Targeted, int Granted, int Refused, IReadOnlyDictionary<string, int> RefusedBy);

/// <summary>
/// Grants a gift pack to a list of members in batches, four activity calls at a time, with progress in the custom
/// status. Every grant is keyed by (campaign, member), so a crashed batch retried, the same campaign started again
/// under another instance id, or a duplicated activity message grants nothing twice.
/// </summary>
internal static class GiftPackCampaign
{
    public const string Name = "GiftPackCampaign";
    public const int MaxMembers = 2_000;
    private const int Parallel = 4;

    [Function(Name)]
    public static Task<GiftPackCampaignResult> Run([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return RunAsync(context, context.GetInput<GiftPackCampaignInput>()!);
    }

    public static async Task<GiftPackCampaignResult> RunAsync(TaskOrchestrationContext context, GiftPackCampaignInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (input is null || string.IsNullOrWhiteSpace(input.CampaignId) || input.CampaignId.Length > 64 || string.IsNullOrWhiteSpace(input.GiftPackId)
            || input.MemberIds is null || input.MemberIds.Count > MaxMembers || input.BatchSize is < 1 or > 100)
        {
            throw new ArgumentException($"Input: campaignId (up to 64 characters), giftPackId, memberIds (up to {MaxMembers}), batchSize 1-100.");
        }

        var members = input.MemberIds.Distinct(StringComparer.Ordinal).ToList();
        var batches = members.Chunk(input.BatchSize).ToList();
        var tally = GrantTally.Empty;
        for (var done = 0; done < batches.Count; done += Parallel)
        {
            var window = batches.Skip(done).Take(Parallel)
                .Select(b => context.CallActivityAsync<GrantTally>(GrantGiftPackBatch.Name, new GrantBatch(input.CampaignId, input.GiftPackId, b, context.InstanceId), Activities.Retry));
            foreach (var result in await Task.WhenAll(window))
            {
                tally = tally.Add(result);
            }

            context.SetCustomStatus(new { batchesDone = Math.Min(done + Parallel, batches.Count), batches = batches.Count, granted = tally.Granted, refused = tally.RefusedCount });
        }

        return new GiftPackCampaignResult(input.CampaignId, input.GiftPackId, members.Count, tally.Granted, tally.RefusedCount, tally.Refused);
    }
}

/// <summary>Activity: grants a gift pack to one batch of members (idempotent per campaign and member).</summary>
internal sealed class GrantGiftPackBatch(CouponIssuer issuer, MemberStore members)
{
    public const string Name = "GrantGiftPackBatch";

    /// <summary>Idempotency scope of a campaign's grants (the key is the member id).</summary>
    public static string Scope(string campaignId) => "campaign:" + campaignId;

    [Function(Name)]
    public async Task<GrantTally> RunAsync([ActivityTrigger] GrantBatch input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var granted = 0;
        var refused = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        await System.Threading.Tasks.Parallel.ForEachAsync(input.MemberIds, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (memberId, ct) =>
        {
            var member = Loyalty.Domain.Members.MemberId.IsWellFormed(memberId) ? await members.GetAsync(memberId, ct) : null;
            if (member is null)
            {
                refused.AddOrUpdate("member_not_found", 1, (_, n) => n + 1);
                return;
            }

            var plan = await issuer.PlanPackAsync(input.GiftPackId, "campaign:" + input.CampaignId, member.Profile.StoreId, ct);
            var outcome = plan.IsSuccess
                ? await issuer.IssueAsync(memberId, plan.Value, new IdempotencyContext(Scope(input.CampaignId), memberId, "pack:" + input.GiftPackId), "orchestration:" + input.InstanceId, ct)
                : new Refused(plan.Error);
            if (outcome is Refused no)
            {
                refused.AddOrUpdate(no.Error.Code, 1, (_, n) => n + 1);
            }
            else
            {
                Interlocked.Increment(ref granted);
            }
        });
        return new GrantTally(granted, refused.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal));
    }
}
