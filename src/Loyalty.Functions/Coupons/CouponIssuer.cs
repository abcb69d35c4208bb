using Azure.Data.Tables;
using System.Text;
using Loyalty.Domain.Common;
using Loyalty.Domain.Coupons;
using Loyalty.Domain.Ledger;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Ledger;
using Loyalty.Functions.Programme;
using Loyalty.Storage.Coupons;
using Loyalty.Storage.Ledger;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Coupons;

/// <summary>What one issue grants: points and coupons, from a gift pack or a single template.</summary>
/// <param name="Source">Why: <c>ops</c>, <c>signup</c>, <c>upgrade</c>, <c>birthday</c>, <c>campaign:{id}</c>.</param>
/// <param name="GiftPackId">The pack, when issued from one.</param>
/// <param name="Points">Points granted with it.</param>
/// <param name="Coupons">Templates and how many of each.</param>
/// <param name="StoreId">Store the ledger entry is booked to.</param>
internal sealed record IssuePlan(string Source, string? GiftPackId, long Points, IReadOnlyList<(CouponTemplate Template, int Quantity)> Coupons, string StoreId);

/// <summary>An issue ready to commit: its coupons, its points entry, and the templates reserved for it.</summary>
internal sealed record PreparedIssue(IssuePlan Plan, IReadOnlyList<Coupon> Coupons, LedgerEntryDraft? Entry, IReadOnlyList<string> Reserved);

/// <summary>The answer of an issue.</summary>
internal sealed record IssueReceipt(string MemberId, string Source, string? GiftPackId, long Points, IReadOnlyList<CouponView> Coupons, BalancesDto Balances);

/// <summary>
/// Issues coupons and gift packs to a member, exactly once per idempotency key. Codes are derived from the issue, so
/// a retry reuses them; limited templates are reserved first (and given back if the issue is refused); the coupon
/// rows, the points entry and the idempotency record are one member transaction.
/// </summary>
internal sealed class CouponIssuer(
    MemberTransactions transactions,
    CouponStore coupons,
    ProgrammeConfig programme,
    TimeProvider time,
    IOptions<LoyaltyOptions> options)
{
    /// <summary>Builds the plan of a gift pack; an error when the pack or one of its templates is unknown.</summary>
    public async Task<Result<IssuePlan>> PlanPackAsync(string packId, string source, string storeId, CancellationToken ct)
    {
        var packs = await programme.GetGiftPacksAsync(ct);
        if (packs.Find(packId) is not { } pack)
        {
            return new DomainError("gift_pack_unknown", $"No gift pack '{packId}'.", ErrorKind.Unprocessable, "giftPackId");
        }

        var templates = await programme.GetCouponTemplatesAsync(ct);
        var items = new List<(CouponTemplate, int)>();
        foreach (var c in pack.CouponList)
        {
            if (templates.FirstOrDefault(t => t.TemplateId == c.TemplateId) is not { } template)
            {
                return new DomainError("coupon_template_unknown", $"Gift pack '{packId}' names a missing template '{c.TemplateId}'.", ErrorKind.Unprocessable, "giftPackId");
            }

            items.Add((template, c.Quantity));
        }

        return new IssuePlan(source, packId, pack.Points, items, storeId);
    }

    /// <summary>Builds the plan of <paramref name="quantity"/> coupons of one template.</summary>
    public async Task<Result<IssuePlan>> PlanTemplateAsync(string templateId, int quantity, string source, string storeId, CancellationToken ct)
    {
        if (quantity is < 1 or > CouponValidation.MaxCouponsPerIssue)
        {
            return DomainError.Invalid("quantity_invalid", "quantity", $"quantity is 1-{CouponValidation.MaxCouponsPerIssue}.");
        }

        var templates = await programme.GetCouponTemplatesAsync(ct);
        return templates.FirstOrDefault(t => t.TemplateId == templateId) is { } template
            ? new IssuePlan(source, null, 0, [(template, quantity)], storeId)
            : new DomainError("coupon_template_unknown", $"No coupon template '{templateId}'.", ErrorKind.Unprocessable, "templateId");
    }

    /// <summary>Issues <paramref name="plan"/> to <paramref name="memberId"/> under <paramref name="idempotency"/>.</summary>
    public async Task<MemberOutcome> IssueAsync(string memberId, IssuePlan plan, IdempotencyContext idempotency, string actor, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(idempotency);
        var issueId = Hashing.Sha256Hex(idempotency.Scope + "\n" + idempotency.Key);
        var prepared = await PrepareAsync(memberId, plan, issueId, ct);
        if (!prepared.IsSuccess)
        {
            return new Refused(prepared.Error);
        }

        var issue = prepared.Value;
        var outcome = await transactions.ExecuteAsync(memberId, idempotency, (account, _) =>
        {
            var decision = new WriteDecision(
                issue.Entry,
                balances => new IssueReceipt(memberId, plan.Source, plan.GiftPackId, plan.Points, [.. issue.Coupons.Select(CouponView.From)], BalancesDto.From(balances)),
                body => Rows(memberId, issue, actor))
            {
                ReportStoreId = plan.StoreId,
            };
            return Task.FromResult<Result<LedgerDecision>>(decision);
        }, ct);

        // Only a refusal that proves nothing was issued under this issue gives the reservation back; a reused key or
        // an in-flight duplicate may belong to an issue that did succeed.
        if (outcome is Refused { Error.Code: "member_not_found" })
        {
            await ReleaseAsync(issue.Reserved, issueId);
        }

        return outcome;
    }

    /// <summary>
    /// Everything an issue writes before its member transaction (reservations of limited templates, code claims,
    /// schedule rows), keyed by <paramref name="issueId"/> so that preparing the same issue again changes nothing.
    /// The caller commits <see cref="PreparedIssue.Entry"/> and <see cref="Rows"/> in a member transaction.
    /// </summary>
    public async Task<Result<PreparedIssue>> PrepareAsync(string memberId, IssuePlan plan, string issueId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var now = time.GetUtcNow();
        var zone = options.Value.ChainTimeZone;

        // Windows first: a template whose fixed dates are over issues nothing.
        var drafts = new List<(CouponTemplate Template, DateTimeOffset From, DateTimeOffset Until)>();
        foreach (var (template, quantity) in plan.Coupons)
        {
            var (from, until) = template.Window(now, zone);
            if (until <= now)
            {
                return new DomainError("coupon_template_ended", $"Template '{template.TemplateId}' was valid until {until:yyyy-MM-dd}.", ErrorKind.Unprocessable, "templateId");
            }

            drafts.AddRange(Enumerable.Repeat((template, from, until), quantity));
        }

        var reserved = new List<string>();
        foreach (var (template, quantity) in plan.Coupons.Where(c => c.Template.IsLimited))
        {
            if (!await coupons.ReserveAsync(template.TemplateId, issueId, quantity, template.FaceValue * quantity, template.MaxIssued, template.Budget, ct))
            {
                await ReleaseAsync(reserved, issueId);
                return new DomainError("coupon_quota_exhausted", $"Template '{template.TemplateId}' has no coupons left to issue (limit or budget reached).", ErrorKind.Unprocessable, "templateId");
            }

            reserved.Add(template.TemplateId);
        }

        var issued = new List<Coupon>(drafts.Count);
        for (var i = 0; i < drafts.Count; i++)
        {
            var (template, from, until) = drafts[i];
            var code = await ClaimCodeAsync(memberId, issueId, i, ct);
            var coupon = new Coupon(code, memberId, template.TemplateId, template.Name, template.Terms, template.FaceValue, from, until, CouponState.Issued, plan.Source, now);
            var remindAt = template.ReminderDaysBeforeExpiry is { } days ? until.AddDays(-days) : (DateTimeOffset?)null;
            await coupons.ScheduleAsync(memberId, code, until, remindAt > now ? remindAt : null, ct);
            issued.Add(coupon);
        }

        var entry = plan.Points > 0
            ? new LedgerEntryDraft(LedgerEntryType.Gift, "gift." + plan.Source.Split(':')[0], new LedgerChange(plan.Points, 0, 0), plan.StoreId, plan.GiftPackId, null, plan.Source)
            : null;
        return new PreparedIssue(plan, issued, entry, reserved);
    }

    /// <summary>The rows of a prepared issue for its member transaction: the coupons and an audit row.</summary>
    public IReadOnlyList<TableTransactionAction> Rows(string memberId, PreparedIssue issue, string actor)
    {
        ArgumentNullException.ThrowIfNull(issue);
        var plan = issue.Plan;
        var what = plan.GiftPackId ?? (plan.Coupons.Count > 0 ? plan.Coupons[0].Template.TemplateId : "points");
        return
        [
            .. issue.Coupons.Select(c => new TableTransactionAction(TableTransactionActionType.Add, CouponStore.ToRow(c))),
            new(TableTransactionActionType.Add, transactions.AuditRow(memberId, actor, "coupons.issue", what, null,
                $"{plan.Source}: {plan.Points} points, coupons {string.Join(',', issue.Coupons.Select(c => c.Code))}")),
        ];
    }

    /// <summary>Rows that revoke <paramref name="held"/> coupons (each only if unchanged since read) with an audit row each, for a member transaction.</summary>
    public IReadOnlyList<TableTransactionAction> RevocationRows(string memberId, IEnumerable<StoredCoupon> held, string actor, string reason) =>
    [
        .. held.SelectMany(h => new TableTransactionAction[]
        {
            new(TableTransactionActionType.UpdateReplace, CouponStore.ToRow(h.Coupon with { State = CouponState.Revoked }), h.ETag),
            new(TableTransactionActionType.Add, transactions.AuditRow(memberId, actor, "coupons.revoke", h.Coupon.Code, h.Coupon.State.ToString(), reason)),
        }),
    ];

    private async Task<string> ClaimCodeAsync(string memberId, string issueId, int position, CancellationToken ct)
    {
        var key = Encoding.UTF8.GetBytes("coupon-code\n" + options.Value.PhoneHashKey);
        for (var salt = 0; ; salt++)
        {
            var code = CouponCode.Derive(key, memberId, issueId, position, salt);
            if (await coupons.ClaimCodeAsync(code, memberId, ct) == memberId)
            {
                return code;
            }

            if (salt > 5)
            {
                throw new InvalidOperationException("Could not find a free coupon code.");
            }
        }
    }

    private async Task ReleaseAsync(IEnumerable<string> templateIds, string issueId)
    {
        foreach (var templateId in templateIds)
        {
            await coupons.ReleaseAsync(templateId, issueId, CancellationToken.None);
        }
    }
}
