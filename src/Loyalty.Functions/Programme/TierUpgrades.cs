using Azure.Data.Tables;
using Loyalty.Domain.Common;
using Loyalty.Domain.Programme;
using Loyalty.Domain.Coupons;
using Loyalty.Domain.Ledger;
using Loyalty.Functions.Coupons;
using Loyalty.Storage.Coupons;
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

    /// <summary>The account's upgrade grants after the change (JSON), or null when they stay.</summary>
    public string? Grants { get; init; }

    /// <summary>What a downgrade takes back of the upgrade packs of the tiers left (tier policy <c>takeBackUnusedGift</c>), or null.</summary>
    public GiftTakeBack? TakeBack { get; init; }
}

/// <summary>The unused part of upgrade packs taken back: the coupons revoked (with their rows) and the points entry.</summary>
internal sealed record GiftTakeBack(IReadOnlyList<StoredCoupon> Revoked, long Points, string StoreId)
{
    /// <summary>The points entry (none when no points are taken).</summary>
    public LedgerEntryDraft? Entry => Points > 0
        ? new LedgerEntryDraft(LedgerEntryType.Gift, "gift.upgrade.takenBack", new LedgerChange(-Points, 0, 0), StoreId, null, null, "upgrade")
        : null;
}

/// <summary>
/// Upgrades at once: a purchase (or top-up, or refund) adds to the member's tier progress inside its own transaction,
/// and when the total crosses a higher tier's threshold the same transaction moves the member up and grants that
/// tier's upgrade gift pack. The gift is keyed by the tier and the operation that crossed, so the transaction's
/// retries prepare the same coupons and the pack is granted once per upgrade. Tiers go down here only with the tier
/// policy's <c>reverseOnRefund</c>, when a refund undoes progress that earned this period's tier.
/// </summary>
internal sealed class TierUpgrades(CouponIssuer issuer, CouponStore coupons, TableStore store, TimeProvider time, IOptions<LoyaltyOptions> options, ILogger<TierUpgrades> logger)
{
    /// <summary>Today in the chain's time zone.</summary>
    public DateOnly Today => options.Value.LocalDay(time.GetUtcNow());

    /// <summary>
    /// Adds <paramref name="contribution"/> to the account's progress and decides an upgrade (or, for a refund under
    /// <c>reverseOnRefund</c>, a downgrade). <paramref name="pointsAvailable"/> is the points balance the operation's
    /// own entry leaves, the most a downgrade can take back of an upgrade pack's points.
    /// </summary>
    public async Task<TierChange> ApplyAsync(AccountState account, ProgrammeRules rules, long contribution, string reference, string storeId, CancellationToken ct, long? pointsAvailable = null)
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
                // The packs of the tiers left are no longer the member's grants; with takeBackUnusedGift their unused
                // coupons are revoked and their points taken back, as far as the balance goes.
                var (left, kept) = UpgradeGrants.Parse(account.UpgradeGifts).SplitAbove(supported.Code, rules.Tiers);
                GiftTakeBack? takeBack = null;
                if (rules.Policy.TakeBackUnusedGift && left.Count > 0)
                {
                    var unused = new List<StoredCoupon>();
                    foreach (var code in left.SelectMany(g => g.Coupons))
                    {
                        if (await coupons.GetAsync(account.MemberId, code, ct) is { Coupon.State: CouponState.Issued } held)
                        {
                            unused.Add(held);
                        }
                    }

                    var points = Math.Min(left.Sum(g => g.Points), Math.Max(0, pointsAvailable ?? account.Balances.Points));
                    takeBack = new GiftTakeBack(unused, points, storeId);
                }

                return new TierChange(progress.ToJson(), null, null) { DowngradedTo = supported, Grants = kept.ToJson(), TakeBack = takeBack };
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

        var grants = gift is null
            ? null
            : UpgradeGrants.Parse(account.UpgradeGifts).With(new UpgradeGrant(reached.Code, gift.Plan.GiftPackId!, gift.Plan.Points, [.. gift.Coupons.Select(c => c.Code)]), rules.Tiers).ToJson();
        return new TierChange(progress.ToJson(), reached, gift) { Grants = grants };
    }

    /// <summary><paramref name="decision"/> with the tier change written into the same transaction.</summary>
    public WriteDecision Apply(WriteDecision decision, TierChange change, string memberId, string actor)
    {
        ArgumentNullException.ThrowIfNull(decision);
        ArgumentNullException.ThrowIfNull(change);
        var rows = decision.Rows;
        var entries = decision.MoreEntries;
        if (change.Gift?.Entry is { } entry)
        {
            entries = [.. entries, entry];
        }

        if (change.TakeBack?.Entry is { } takenBack)
        {
            entries = [.. entries, takenBack];
        }

        return decision with
        {
            Tier = change.UpgradedTo?.Code ?? change.DowngradedTo?.Code,
            TierProgress = change.Progress,
            UpgradeGifts = change.Grants,
            MoreEntries = entries,
            Rows = body =>
            [
                .. rows(body),
                .. change.Gift is { } gift ? issuer.Rows(memberId, gift, actor) : [],
                .. change.TakeBack is { Revoked.Count: > 0 } back
                    ? issuer.RevocationRows(memberId, back.Revoked, actor, $"upgrade pack taken back: a refund took the member down to {change.DowngradedTo?.Code}")
                    : [],
            ],
        };
    }
}
