using Azure.Data.Tables;
using Loyalty.Domain.Common;
using Loyalty.Domain.Programme;
using Loyalty.Functions.Coupons;
using Loyalty.Functions.Hosting;
using Loyalty.Storage.Ledger;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Programme;

/// <summary>A tier decision inside a member transaction: the new progress, the tier reached (if higher), and its gift.</summary>
internal sealed record TierChange(string Progress, TierRule? UpgradedTo, PreparedIssue? Gift)
{
    /// <summary>The lower tier a refund took the member back to (tier policy <c>reverseOnRefund</c>), or null.</summary>
    public TierRule? DowngradedTo { get; init; }
}

/// <summary>
/// Upgrades at once: a purchase (or top-up, or refund) adds to the member's tier progress inside its own transaction,
/// and when the total crosses a higher tier's threshold the same transaction moves the member up and grants that
/// tier's upgrade gift pack. The gift is keyed by the tier and the operation that crossed, so the transaction's
/// retries prepare the same coupons and the pack is granted once per upgrade. Tiers go down here only with the tier
/// policy's <c>reverseOnRefund</c>, when a refund undoes progress that earned this period's tier.
/// </summary>
internal sealed class TierUpgrades(CouponIssuer issuer, TableStore store, TimeProvider time, IOptions<LoyaltyOptions> options, ILogger<TierUpgrades> logger)
{
    /// <summary>Today in the chain's time zone.</summary>
    public DateOnly Today => options.Value.LocalDay(time.GetUtcNow());

    /// <summary>Adds <paramref name="contribution"/> to the account's progress and decides an upgrade.</summary>
    public async Task<TierChange> ApplyAsync(AccountState account, ProgrammeRules rules, long contribution, string reference, string storeId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(account);
        ArgumentNullException.ThrowIfNull(rules);
        var today = Today;
        var progress = TierProgress.Parse(account.TierProgress);
        if (contribution != 0)
        {
            progress = progress.Add(today, contribution);
        }

        var total = progress.Total(today, rules.Policy.Period);
        if (contribution < 0 && rules.Policy.ReverseOnRefund &&
            DateOnly.TryParseExact(account.TierSince, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var since) &&
            rules.Policy.ReachedThisPeriod(since, today))
        {
            // The refund took back progress that earned this period's tier: the member holds the tier the rest supports.
            var supported = TierProgress.AfterPeriodEnd(rules.Tiers, account.Tier, account.TierFloor, total);
            if (supported.Code != account.Tier)
            {
                return new TierChange(progress.ToJson(), null, null) { DowngradedTo = supported };
            }
        }

        var reached = TierProgress.Reached(rules.Tiers, account.Tier, total);
        if (reached.Code == account.Tier)
        {
            return new TierChange(progress.ToJson(), null, null);
        }

        // Listed for the period-end evaluation (written before the commit; an entry for a member who stayed put is harmless).
        await store.Schedules.UpsertEntityAsync(new TableEntity(TierEvaluation.Partition, account.MemberId), TableUpdateMode.Replace, cancellationToken: ct);

        PreparedIssue? gift = null;
        if (reached.UpgradeGiftPack is { } packId)
        {
            var plan = await issuer.PlanPackAsync(packId, "upgrade", storeId, ct);
            var prepared = plan.IsSuccess
                ? await issuer.PrepareAsync(account.MemberId, plan.Value, Hashing.Sha256Hex($"upgrade\n{reached.Code}\n{reference}"), ct)
                : plan.Error;
            if (prepared.IsSuccess)
            {
                gift = prepared.Value;
            }
            else
            {
                // The upgrade itself never fails for want of a gift (e.g. a template's budget is spent).
                logger.LogWarning("Upgrade of {MemberId} to {Tier}: gift pack {PackId} not granted: {Reason}", account.MemberId, reached.Code, packId, prepared.Error.Message);
            }
        }

        return new TierChange(progress.ToJson(), reached, gift);
    }

    /// <summary><paramref name="decision"/> with the tier change written into the same transaction.</summary>
    public WriteDecision Apply(WriteDecision decision, TierChange change, string memberId, string actor)
    {
        ArgumentNullException.ThrowIfNull(decision);
        ArgumentNullException.ThrowIfNull(change);
        var rows = decision.Rows;
        return decision with
        {
            Tier = change.UpgradedTo?.Code ?? change.DowngradedTo?.Code,
            TierProgress = change.Progress,
            MoreEntries = change.Gift?.Entry is { } entry ? [.. decision.MoreEntries, entry] : decision.MoreEntries,
            Rows = change.Gift is { } gift ? body => [.. rows(body), .. issuer.Rows(memberId, gift, actor)] : rows,
        };
    }
}
