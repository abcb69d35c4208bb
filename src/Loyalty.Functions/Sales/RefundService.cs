using Azure.Data.Tables;
using Loyalty.Domain.Common;
using Loyalty.Domain.Coupons;
using Loyalty.Domain.Ledger;
using Loyalty.Domain.Programme;
using Loyalty.Functions.Programme;
using Loyalty.Functions.Ledger;
using Loyalty.Storage.Coupons;
using Loyalty.Storage.Ledger;
using Loyalty.Storage.Members;
using Loyalty.Storage.Tables;

namespace Loyalty.Functions.Sales;

/// <summary>
/// Refunds a recorded sale: shared by <c>POST /api/sales/{saleId}/refunds</c> and order events. The refund that
/// completes the sale's refund gives its coupons back (issued again if still valid, otherwise expired) in the same
/// transaction.
/// </summary>
internal sealed class RefundService(
    MemberTransactions transactions,
    MemberStore members,
    SaleIndex sales,
    CouponStore coupons,
    ProgrammeConfig programme,
    TierUpgrades upgrades,
    Tags.MemberTagging tagging,
    TimeProvider time)
{
    /// <summary>The member and record of a sale; null when no such sale was recorded.</summary>
    public async Task<(string MemberId, SaleRecord Record)?> FindAsync(string saleId, CancellationToken ct)
    {
        var memberId = RecordSale.IdPattern().IsMatch(saleId) ? await sales.FindAsync(saleId, ct) : null;
        var row = memberId is null ? null : await members.GetRowAsync(memberId, SaleRows.Key(saleId), ct);
        return memberId is null || row is null ? null : (memberId, SaleRows.FromRow(row));
    }

    /// <summary>Refunds <paramref name="saleId"/> of <paramref name="memberId"/> at <paramref name="storeId"/>.</summary>
    public async Task<MemberOutcome> RefundAsync(string memberId, string saleId, RefundRequest request, string storeId, IdempotencyContext idempotency, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        var lines = request.Lines?.Select(l => new RefundLine(l.Line, l.Quantity)).ToList();
        var rules = await programme.GetRulesAsync(ct);
        Tags.TagChange? tags = null;
        var outcome = await transactions.ExecuteAsync(memberId, idempotency, async (account, token) =>
        {
            // A refund id is idempotent in its own right (also under another Idempotency-Key), so look for it first: once
            // a line refund or "the rest" has been applied, working it out again would find nothing left to refund.
            var earlier = await members.GetRowAsync(memberId, SaleRows.RefundKey(saleId, request.RefundId!), token);
            if (earlier is not null)
            {
                return earlier.GetString("RequestHash") == idempotency.RequestHash
                    ? new ExistingDecision(StatusCodes.Status201Created, earlier.Require("Receipt"))
                    : new DomainError("refund_id_reused", $"Refund '{request.RefundId!}' of this sale was recorded with different content.", ErrorKind.Conflict, "refundId");
            }

            var row = await members.GetRowAsync(memberId, SaleRows.Key(saleId), token) ?? throw new InvalidOperationException("The sale row vanished.");
            var refund = RefundCalculator.Refund(SaleRows.FromRow(row), lines, request.Amount);
            if (!refund.IsSuccess)
            {
                return refund.Error;
            }

            var r = refund.Value;
            var couponRows = new List<TableTransactionAction>();
            var restored = new List<string>();
            if (r.Sale.Refundable == 0)
            {
                var now = time.GetUtcNow();
                foreach (var code in r.Sale.Coupons ?? [])
                {
                    if (await coupons.GetAsync(memberId, code, token) is { Coupon: { State: CouponState.Redeemed } used } held && used.RedeemedSaleId == saleId)
                    {
                        var back = used with { State = now < used.ValidUntil ? CouponState.Issued : CouponState.Expired, RedeemedSaleId = null, RedeemedAt = null };
                        couponRows.Add(new(TableTransactionActionType.UpdateReplace, CouponStore.ToRow(back), held.ETag));
                        if (back.State == CouponState.Issued)
                        {
                            restored.Add(code);
                        }
                    }
                }
            }

            // A refund takes back what the sale added to the tier progress (tiers themselves only go down at period end).
            var policy = rules.Policy;
            var undo = policy.Basis switch
            {
                TierBasis.QualifyingSpend => -(r.Amount - r.OffsetRestored),
                TierBasis.Purchases => r.Sale.Refundable == 0 ? -1 : 0,
                TierBasis.PointsEarned => -r.PointsClawedBack,
                _ => 0,
            };
            var tier = await upgrades.ApplyAsync(account, rules, undo, $"refund:{saleId}/{request.RefundId}", storeId, token, account.Balances.Points + r.Change.Points);
            var stats = Domain.Tags.MemberStats.Parse(account.Stats).WithRefund(upgrades.Today, r.Amount - r.OffsetRestored, []);
            tags = await tagging.ChangeAsync(account, stats, account.Tier, upgrades.Today, token);
            return Tags.MemberTagging.Apply(upgrades.Apply(new WriteDecision(
                new LedgerEntryDraft(LedgerEntryType.Refund, "refund", r.Change, storeId, $"{saleId}/{request.RefundId!}", null, null),
                balances => new RefundReceipt(
                    saleId, request.RefundId!, memberId, storeId, r.Amount, r.PointsClawedBack, r.PointsRestored,
                    new StoredValuePaid(r.PrincipalRestored, r.BonusRestored, r.PrincipalRestored + r.BonusRestored), r.CashRefund, r.Sale.Refundable,
                    restored, BalancesDto.From(balances))
                {
                    DowngradedTo = tier.DowngradedTo?.Code,
                    UpgradeGiftTakenBack = tier.TakeBack is { } back ? new UpgradeGiftTakenBack(back.Points, [.. back.Revoked.Select(c => c.Coupon.Code)]) : null,
                },
                body =>
                [
                    new(TableTransactionActionType.UpdateReplace, SaleRows.ToRow(r.Sale, row.GetString("RequestHash")!, row.Require("Receipt")), row.ETag),
                    new(TableTransactionActionType.Add, new TableEntity(memberId, SaleRows.RefundKey(saleId, request.RefundId!))
                    {
                        ["RequestHash"] = idempotency.RequestHash,
                        ["Receipt"] = body,
                    }),
                    .. couponRows,
                ])
            {
                Report = Reports.SaleReport.Refund(r.Amount, r.PrincipalRestored, r.BonusRestored),
            }, tier, memberId, idempotency.Scope), tags);
        }, ct);
        if (outcome is Completed { Replayed: false } && tags is { Removed.Count: > 0 })
        {
            await tagging.UnlistAsync(memberId, tags.Removed, ct);
        }

        return outcome;
    }
}
