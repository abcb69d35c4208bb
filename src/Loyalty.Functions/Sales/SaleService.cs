using Azure.Data.Tables;
using Loyalty.Domain.Common;
using Loyalty.Domain.Coupons;
using Loyalty.Domain.Ledger;
using Loyalty.Domain.Members;
using Loyalty.Domain.Programme;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Http;
using Loyalty.Functions.Ledger;
using Loyalty.Functions.Programme;
using Loyalty.Storage.Coupons;
using Loyalty.Storage.Ledger;
using Loyalty.Storage.Members;
using Loyalty.Storage.Org;
using Loyalty.Storage.Tables;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Sales;

/// <summary>
/// Records a sale for a member (by id or card): shared by <c>POST /api/sales</c> and the order events of online shops
/// and POS systems. The request's store and scope have been checked by the caller. Coupons presented with the sale are
/// read and checked inside each attempt and marked redeemed in the sale's own transaction, with If-Match on each
/// coupon row: of two sales racing for one coupon exactly one commits, and the other, deciding again, finds it used.
/// </summary>
internal sealed class SaleService(
    MemberTransactions transactions,
    MemberStore members,
    SaleIndex sales,
    CouponStore coupons,
    OrgStore org,
    ProgrammeConfig programme,
    TierUpgrades upgrades,
    Tags.MemberTagging tagging,
    TimeProvider time,
    IOptions<LoyaltyOptions> options)
{
    /// <summary>Either a refusal found before any write, or the outcome of the member transaction.</summary>
    /// <summary>Most coupons one sale may use.</summary>
    public const int MaxCoupons = 5;

    public async Task<(DomainError? Error, MemberOutcome? Outcome)> RecordAsync(SaleRequest request, IdempotencyContext idempotency, CancellationToken ct, string channel = Reports.SaleChannels.Store)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (codes, codesError) = Codes(request);
        if (codesError is not null)
        {
            return (codesError, null);
        }

        var lines = Lines(request);
        var (memberError, memberId) = await ResolveMemberAsync(request, ct);
        if (memberError is not null)
        {
            return (memberError, null);
        }

        var (rules, tree, localNow, memberDay) = await ContextAsync(request.StoreId!, ct);

        // Checked before the sale id is claimed, so a rejected basket leaves nothing behind.
        var basket = SalePricing.Price(lines, rules.Tiers[0], rules, memberDay, 0, 0, default);
        if (!basket.IsSuccess && basket.Error.Kind == ErrorKind.Validation && basket.Error.Code == "lines_invalid")
        {
            return (basket.Error, null);
        }

        if (await sales.ClaimAsync(request.SaleId!, memberId!, ct) != memberId)
        {
            return (new DomainError("sale_id_conflict", $"Sale '{request.SaleId}' belongs to another member.", ErrorKind.Conflict, "saleId"), null);
        }

        Tags.TagChange? tags = null;
        var outcome = await transactions.ExecuteAsync(memberId!, idempotency, async (account, token) =>
        {
            // First attempt: the sale row's insert fails if the sale exists; a retry reads it.
            var existing = account.IsRetry ? await members.GetRowAsync(memberId, SaleRows.Key(request.SaleId!), token) : null;
            if (existing is not null)
            {
                return existing.GetString("RequestHash") == idempotency.RequestHash
                    ? new ExistingDecision(StatusCodes.Status201Created, existing.Require("Receipt"))
                    : new DomainError("sale_already_recorded", $"Sale '{request.SaleId!}' was recorded with different content.", ErrorKind.Conflict, "saleId");
            }

            var held = new List<StoredCoupon>(codes.Count);
            foreach (var code in codes)
            {
                var coupon = await HeldCouponAsync(memberId!, code!, request, idempotency, tree, token);
                if (!coupon.IsSuccess)
                {
                    return coupon.Error;
                }

                if (coupon.Value.Replay is { } replay)
                {
                    return replay;
                }

                held.Add(coupon.Value.Coupon!);
            }

            var card = await CardChecks.CheckAsync(members, account, request.CardNumber, token);
            if (!card.IsSuccess)
            {
                return card.Error;
            }

            // Priced at the higher of the earned tier and a valid paid membership's tier.
            var tier = rules.Tier(PaidMembershipRules.Effective(rules.Tiers, account.Tier, account.PaidTier, account.PaidUntil, time.GetUtcNow()));
            var uses = held.Select(h => new CouponUse(h.Coupon.Code, h.Coupon.Terms)).ToList();
            var quote = SalePricing.Price(lines, tier, rules, memberDay, request.PointsToRedeem ?? 0, request.PayWithStoredValue ?? 0, account.Balances, uses);
            if (!quote.IsSuccess)
            {
                return quote.Error;
            }

            var cardRows = new List<TableTransactionAction>();
            if (card.Value is { } usedCard && quote.Value.StoredValuePaid > 0 && (usedCard.DailyLimit is not null || usedCard.MonthlyLimit is not null))
            {
                var limited = await SpendingLimits.ApplyAsync(members, memberId, usedCard, quote.Value.StoredValuePaid, DateOnly.FromDateTime(localNow.DateTime), token);
                if (!limited.IsSuccess)
                {
                    return limited.Error;
                }

                cardRows.Add(limited.Value);
            }

            var q = quote.Value;
            var record = SaleRecord.From(request.SaleId!, memberId, request.StoreId!, q);
            var redeemedAt = time.GetUtcNow();
            var couponRows = held.Select(h => new TableTransactionAction(
                TableTransactionActionType.UpdateReplace,
                CouponStore.ToRow(h.Coupon with { State = CouponState.Redeemed, RedeemedSaleId = request.SaleId, RedeemedAt = redeemedAt }),
                h.ETag));
            var receiptCoupons = q.Coupons
                .Join(held, c => c.Code, h => h.Coupon.Code, (c, h) => new ReceiptCoupon(c.Code, h.Coupon.TemplateId, h.Coupon.Name, c.Discount))
                .ToList();
            // What the member paid counts toward tiers; the purchase that crosses a threshold upgrades in this transaction.
            var change = await upgrades.ApplyAsync(account, rules, rules.Policy.ForPurchase(q.Net - q.PointsOffset, q.PointsEarned), "sale:" + request.SaleId, request.StoreId!, token);
            var gift = change.Gift is { } g ? new UpgradeGift(g.Plan.GiftPackId!, g.Plan.Points, [.. g.Coupons.Select(c => c.Code)]) : null;
            var decision = new WriteDecision(
                new LedgerEntryDraft(LedgerEntryType.Sale, "sale", q.Change, request.StoreId!, request.SaleId!, rules.Version, null),
                balances => Receipt(request.SaleId!, memberId, request.StoreId!, q, receiptCoupons, tier.Code, rules.Version, balances) with
                {
                    UpgradedTo = change.UpgradedTo?.Code,
                    UpgradeGift = gift,
                },
                body => [new(TableTransactionActionType.Add, SaleRows.ToRow(record, idempotency.RequestHash, body)), .. cardRows, .. couponRows]);
            // Stats and automatic tags follow the purchase in the same transaction.
            var before = Domain.Tags.MemberStats.Parse(account.Stats);
            decision = decision with { Report = Reports.SaleReport.Counters(q, channel, before.LastPurchase, upgrades.Today) };
            var stats = before
                .WithPurchase(upgrades.Today, q.Net - q.PointsOffset, q.Lines.GroupBy(l => l.Category, StringComparer.OrdinalIgnoreCase).Select(g => (g.Key, g.Sum(l => l.Net))));
            tags = await tagging.ChangeAsync(account, stats, change.UpgradedTo?.Code ?? account.Tier, upgrades.Today, token);
            return Tags.MemberTagging.Apply(upgrades.Apply(decision, change, memberId!, idempotency.Scope), tags);
        }, ct);
        if (outcome is Completed { Replayed: false } && tags is { Removed.Count: > 0 })
        {
            await tagging.UnlistAsync(memberId!, tags.Removed, ct);
        }

        return (null, outcome);
    }

    /// <summary>
    /// A coupon of this member that can be used here now; or the stored receipt when the coupon was used by this very
    /// sale already (the sale sent again under another key).
    /// </summary>
    private async Task<Result<(StoredCoupon? Coupon, LedgerDecision? Replay)>> HeldCouponAsync(
        string memberId, string code, SaleRequest request, IdempotencyContext idempotency, Domain.Org.OrgTree tree, CancellationToken ct)
    {
        var found = await FindCouponAsync(memberId, code, ct);
        if (!found.IsSuccess)
        {
            return found.Error;
        }

        var held = found.Value;
        if (held.Coupon is { State: CouponState.Redeemed } used && used.RedeemedSaleId == request.SaleId &&
            await members.GetRowAsync(memberId, SaleRows.Key(request.SaleId!), ct) is { } saleRow)
        {
            return saleRow.GetString("RequestHash") == idempotency.RequestHash
                ? (null, new ExistingDecision(StatusCodes.Status201Created, saleRow.Require("Receipt")))
                : new DomainError("sale_already_recorded", $"Sale '{request.SaleId}' was recorded with different content.", ErrorKind.Conflict, "saleId");
        }

        return held.Coupon.CheckUsable(request.StoreId!, tree, time.GetUtcNow()) is { } error ? error : (held, null);
    }

    /// <summary>
    /// Prices a basket as <c>POST /api/sales</c> would, without writing anything: for a member (tier, balances, coupons
    /// checked but not used, the upgrade it would cause) or, with no member named, at the entry tier.
    /// </summary>
    public async Task<Result<SaleQuoteView>> QuoteAsync(SaleRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (codes, codesError) = Codes(request);
        if (codesError is not null)
        {
            return codesError;
        }

        var (rules, tree, _, memberDay) = await ContextAsync(request.StoreId!, ct);
        var account = MemberAccount.Empty;
        string? memberId = null;
        if (request.MemberId is not null || request.CardNumber is not null)
        {
            var (memberError, found) = await ResolveMemberAsync(request, ct);
            var snapshot = memberError is null ? await members.GetAsync(found!, ct) : null;
            if (snapshot is null)
            {
                return memberError ?? new DomainError("member_not_found", "No such member.", ErrorKind.NotFound);
            }

            (memberId, account) = (found, snapshot.Account);
        }
        else if (codes.Count > 0)
        {
            return DomainError.Invalid("member_reference_invalid", "memberId", "Coupons belong to a member: name the member.");
        }

        var uses = new List<CouponUse>();
        var names = new Dictionary<string, Coupon>(StringComparer.Ordinal);
        foreach (var code in codes)
        {
            var coupon = await FindCouponAsync(memberId!, code!, ct);
            if (!coupon.IsSuccess)
            {
                return coupon.Error;
            }

            if (coupon.Value.Coupon.CheckUsable(request.StoreId!, tree, time.GetUtcNow()) is { } unusable)
            {
                return unusable;
            }

            uses.Add(new CouponUse(code!, coupon.Value.Coupon.Terms));
            names[code!] = coupon.Value.Coupon;
        }

        var balances = new Balances(account.Points, account.StoredValuePrincipal, account.StoredValueBonus);
        var tier = rules.Tier(PaidMembershipRules.Effective(rules.Tiers, account.Tier, account.PaidTier, account.PaidUntil, time.GetUtcNow()));
        var quote = SalePricing.Price(Lines(request), tier, rules, memberDay, request.PointsToRedeem ?? 0, request.PayWithStoredValue ?? 0, balances, uses);
        if (!quote.IsSuccess)
        {
            return quote.Error;
        }

        var q = quote.Value;
        var after = balances.Apply(q.Change);
        var progress = TierProgress.Parse(account.TierProgress).Add(upgrades.Today, rules.Policy.ForPurchase(q.Net - q.PointsOffset, q.PointsEarned));
        var reached = TierProgress.Reached(rules.Tiers, account.Tier, progress.Total(upgrades.Today, rules.Policy.Period));
        var receiptCoupons = q.Coupons.Select(c => new ReceiptCoupon(c.Code, names[c.Code].TemplateId, names[c.Code].Name, c.Discount)).ToList();
        return new SaleQuoteView(
            true,
            Receipt(request.SaleId ?? string.Empty, memberId ?? string.Empty, request.StoreId!, q, receiptCoupons, tier.Code, rules.Version, after.IsSuccess ? after.Value : balances),
            reached.Code != account.Tier && memberId is not null ? reached.Code : null);
    }

    /// <summary>The coupon codes as typed, normalised; an error when there are too many, duplicates, or malformed ones.</summary>
    private static (List<string?> Codes, DomainError? Error) Codes(SaleRequest request)
    {
        var codes = (request.CouponCodes ?? []).Select(CouponCode.Normalise).ToList();
        return codes.Count > MaxCoupons || codes.Any(c => c is null) || codes.Distinct(StringComparer.Ordinal).Count() != codes.Count
            ? (codes, DomainError.Invalid("coupon_codes_invalid", "couponCodes", $"couponCodes lists up to {MaxCoupons} distinct codes of {CouponCode.Length} characters."))
            : (codes, null);
    }

    private static List<SaleLine> Lines(SaleRequest request) =>
        [.. (request.Lines ?? []).Select(l => new SaleLine(l.Sku ?? string.Empty, l.Category ?? string.Empty, l.Quantity, l.UnitPrice))];

    /// <summary>The member named by id or card number.</summary>
    private async Task<(DomainError? Error, string? MemberId)> ResolveMemberAsync(SaleRequest request, CancellationToken ct)
    {
        var memberId = request.MemberId;
        if (request.CardNumber is not null)
        {
            var card = CardNumber.Parse(request.CardNumber);
            if (!card.IsSuccess)
            {
                return (card.Error, null);
            }

            memberId = await members.FindByIndexAsync(MemberStore.CardIndexKey(card.Value.Value), ct);
        }

        return memberId is null || MemberOperation.CheckMemberId(memberId) is not null
            ? (new DomainError("member_not_found", "No such member.", ErrorKind.NotFound), null)
            : (null, memberId);
    }

    /// <summary>The rules as they apply at the store (its earning rate), and the member-day multiplier now.</summary>
    private async Task<(ProgrammeRules Rules, Domain.Org.OrgTree Tree, DateTimeOffset LocalNow, int MemberDay)> ContextAsync(string storeId, CancellationToken ct)
    {
        var tree = await org.GetRequiredAsync(ct);
        var chainRules = await programme.GetRulesAsync(ct);
        var rules = chainRules with { Earning = chainRules.Earning.ForStore(storeId, tree) };
        var localNow = TimeZoneInfo.ConvertTime(time.GetUtcNow(), options.Value.ChainTimeZone);
        return (rules, tree, localNow, rules.MemberDayMultiplier(localNow.DateTime));
    }

    /// <summary>A coupon this member holds, or why not (unknown code, or another member's).</summary>
    private async Task<Result<StoredCoupon>> FindCouponAsync(string memberId, string code, CancellationToken ct)
    {
        var held = await coupons.GetAsync(memberId, code, ct);
        if (held is not null)
        {
            return held;
        }

        return await coupons.FindOwnerAsync(code, ct) is null
            ? new DomainError("coupon_not_found", $"No coupon {code}.", ErrorKind.Unprocessable, "couponCodes")
            : new DomainError("coupon_not_owned", $"Coupon {code} belongs to another member.", ErrorKind.Unprocessable, "couponCodes");
    }

    private static SaleReceipt Receipt(string saleId, string memberId, string storeId, SaleQuote q, IReadOnlyList<ReceiptCoupon> coupons, string tier, string ruleVersion, Balances balances) => new(
        saleId,
        memberId,
        storeId,
        [.. q.Lines.Select((l, i) => new ReceiptLine(i, l.Sku, l.Category, l.Quantity, l.UnitPrice, l.Gross, l.Discount, l.CouponDiscount, l.Net, l.EarnsPoints))],
        q.Gross,
        q.MemberDiscount,
        q.CouponDiscount,
        coupons,
        q.PointsRedeemed,
        q.PointsOffset,
        new StoredValuePaid(q.StoredValuePrincipal, q.StoredValueBonus, q.StoredValuePaid),
        q.AmountDue,
        q.PointsEarned,
        q.TierMultiplierPercent,
        q.MemberDayMultiplierPercent,
        tier,
        ruleVersion,
        BalancesDto.From(balances));

}
