using Azure.Data.Tables;
using Azure;
using Loyalty.Domain.Coupons;
using Loyalty.Domain.Members;
using Loyalty.Functions.Hosting;
using Loyalty.Domain.Common;
using Loyalty.Functions.Http;
using Loyalty.Functions.Ledger;
using Loyalty.Functions.Members;
using Loyalty.Storage.Coupons;
using Loyalty.Storage.Ledger;
using Loyalty.Storage.Members;
using Loyalty.Storage.Org;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Coupons;

/// <summary>Body of <c>POST /api/members/{memberId}/coupons</c>: one template (with a quantity) or one gift pack.</summary>
internal sealed record IssueRequest(string? TemplateId, int? Quantity, string? GiftPackId, string? StoreId, string? Reason);

/// <summary>Body of <c>POST /api/members/{memberId}/coupons/{code}/revoke</c>.</summary>
internal sealed record RevokeRequest(string? Reason);

/// <summary>
/// A member's coupons: issue (ops and HQ, with an Idempotency-Key), list (any staff, filter by state), revoke (ops and
/// HQ; an issued coupon only, audited in the same transaction).
/// </summary>
internal sealed class CouponsApi(
    CouponIssuer issuer,
    CouponStore coupons,
    MemberStore members,
    OrgStore org,
    MemberTransactions transactions,
    IOptions<LoyaltyOptions> options)
{
    private static readonly string[] ServerOwned = ["code", "coupons", "state", "balances", "memberId"];

    public async Task<IResult> IssueAsync(HttpContext http, string memberId)
    {
        ArgumentNullException.ThrowIfNull(http);
        var ct = http.RequestAborted;
        var (prepared, problem) = await MemberOperation.PrepareAsync<IssueRequest>(http, options.Value.MaxRequestBodyBytes, ServerOwned);
        if (problem is not null)
        {
            return problem;
        }

        var (caller, request, idempotency) = prepared!;
        if ((request.TemplateId is null) == (request.GiftPackId is null))
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "issue_invalid", "Name exactly one of templateId or giftPackId.", "templateId");
        }

        if (request.GiftPackId is not null && request.Quantity is not null)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "issue_invalid", "quantity applies to a template, not to a gift pack.", "quantity");
        }

        if (request.StoreId is not null && MemberOperation.CheckStore(caller, await org.GetRequiredAsync(ct), request.StoreId) is { } storeProblem)
        {
            return storeProblem;
        }

        if (MemberOperation.CheckMemberId(memberId) is { } missing)
        {
            return missing;
        }

        if (!await members.ExistsAsync(memberId, ct))
        {
            return GetMember.NotFound();
        }

        var storeId = request.StoreId ?? caller.ScopeId;
        var plan = request.GiftPackId is { } packId
            ? await issuer.PlanPackAsync(packId, "ops", storeId, ct)
            : await issuer.PlanTemplateAsync(request.TemplateId!, request.Quantity ?? 1, "ops", storeId, ct);
        if (!plan.IsSuccess)
        {
            return Problems.From(plan.Error);
        }

        return MemberOperation.ToResult(await issuer.IssueAsync(memberId, plan.Value, idempotency, caller.Id, ct));
    }

    public async Task<IResult> ListAsync(HttpContext http, string memberId)
    {
        ArgumentNullException.ThrowIfNull(http);
        CouponState? state = null;
        var stateText = http.Request.Query["state"].ToString();
        if (stateText.Length > 0)
        {
            if (!Enum.TryParse<CouponState>(stateText, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed) || char.IsAsciiDigit(stateText[0]))
            {
                return Problems.Create(StatusCodes.Status400BadRequest, "state_invalid", "state is issued, redeemed, expired or revoked.", "state");
            }

            state = parsed;
        }

        if (!MemberId.IsWellFormed(memberId) || !await members.ExistsAsync(memberId, http.RequestAborted))
        {
            return GetMember.NotFound();
        }

        var items = await coupons.ListAsync(memberId, state, http.RequestAborted);
        return TypedResults.Ok(new { memberId, items = items.Select(CouponView.From) });
    }

    public async Task<IResult> RevokeAsync(HttpContext http, string memberId, string code)
    {
        ArgumentNullException.ThrowIfNull(http);
        var ct = http.RequestAborted;
        var (body, problem) = await JsonBody.ReadAsync<RevokeRequest>(http.Request, options.Value.MaxRequestBodyBytes, ServerOwned, ct);
        if (problem is not null)
        {
            return problem;
        }

        var reason = body!.Value.Reason?.Trim();
        if (string.IsNullOrEmpty(reason) || reason.Length > 200)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "reason_required", "Say why the coupon is withdrawn (up to 200 characters).", "reason");
        }

        var normalised = CouponCode.Normalise(code);
        var held = normalised is null || !MemberId.IsWellFormed(memberId) ? null : await coupons.GetAsync(memberId, normalised, ct);
        if (held is null)
        {
            return Problems.Create(StatusCodes.Status404NotFound, "coupon_not_found", "This member holds no such coupon.");
        }

        var coupon = held.Coupon;
        switch (coupon.State)
        {
            case CouponState.Revoked:
                return TypedResults.Ok(CouponView.From(coupon));
            case CouponState.Redeemed:
                return Problems.Create(StatusCodes.Status409Conflict, "coupon_used", $"Coupon {coupon.Code} has been used; refund the sale first.");
            case CouponState.Expired:
                return Problems.Create(StatusCodes.Status409Conflict, "coupon_expired", $"Coupon {coupon.Code} has expired.");
            default:
                break;
        }

        // A member transaction, so the revocation gets its coupon.revoked event in the member's outbox. The coupon row
        // is replaced with the ETag read (a retry reads it again); a coupon used or expired meanwhile is refused.
        var actor = http.Caller().Id;
        var outcome = await transactions.ExecuteAsync(memberId, null, async (account, token) =>
        {
            var current = account.IsRetry ? await coupons.GetAsync(memberId, coupon.Code, token) : held;
            if (current is null || current.Coupon.State != CouponState.Issued)
            {
                return new DomainError("coupon_changed", $"Coupon {coupon.Code} changed meanwhile (used or expired); read it again.", ErrorKind.Conflict);
            }

            var withdrawn = current.Coupon with { State = CouponState.Revoked };
            return new WriteDecision(
                null,
                _ => CouponView.From(withdrawn),
                _ =>
                [
                    new(TableTransactionActionType.UpdateReplace, CouponStore.ToRow(withdrawn), current.ETag),
                    new(TableTransactionActionType.Add, transactions.AuditRow(memberId, actor, "coupons.revoke", coupon.Code, coupon.State.ToString(), reason)),
                ])
            {
                Status = StatusCodes.Status200OK,
            };
        }, ct);
        return MemberOperation.ToResult(outcome);
    }
}
