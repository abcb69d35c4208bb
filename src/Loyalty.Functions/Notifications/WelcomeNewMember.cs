using System.Text.Json;
using Loyalty.Functions.Coupons;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Http;
using Loyalty.Functions.Members;
using Loyalty.Functions.Programme;
using Loyalty.Storage.Ledger;
using Loyalty.Storage.Members;
using Loyalty.Storage.Org;

namespace Loyalty.Functions.Notifications;

/// <summary>
/// Queue-triggered (member-enrolled): grants the sign-up gift pack, if one is configured, then composes the welcome
/// SMS and puts it in the notifications outbox. Both are keyed by the member (the pack's idempotency key is the member
/// id, the notification id is fixed), so a redelivered message grants nothing twice and composes no second SMS.
/// </summary>
internal sealed class WelcomeNewMember(
    MemberStore members,
    OrgStore org,
    ProgrammeConfig programme,
    CouponIssuer issuer,
    NotificationOutbox outbox,
    Events.EventDispatcher dispatcher,
    ILogger<WelcomeNewMember> logger) : IQueueFunction
{
    public const string NotificationId = "welcome";

    /// <summary>Idempotency scope of sign-up packs (the key is the member id).</summary>
    public const string SignUpScope = "system:signup";

    public async Task RunAsync(QueueInvocation invocation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        var message = JsonSerializer.Deserialize<MemberEnrolled>(invocation.Body, JsonDefaults.Options)
            ?? throw new InvalidDataException("Empty member-enrolled message.");
        var member = await members.GetAsync(message.MemberId, cancellationToken)
            ?? throw new InvalidOperationException($"Member {message.MemberId} does not exist.");

        // member.enrolled was written with the member; publish it before the sign-up pack's events.
        await dispatcher.DispatchMemberAsync(message.MemberId, Storage.Events.OutboxRows.Key(message.MemberId, 1), cancellationToken);
        var gift = await GrantSignUpPackAsync(member.Profile.MemberId, member.Profile.StoreId, cancellationToken);
        var chain = (await org.GetRequiredAsync(cancellationToken)).Hq.Name;
        var card = member.Cards.OrderBy(c => c.IssuedAt).First().CardNumber;
        var text = $"{member.Profile.Name}，欢迎加入{chain}会员！您的会员卡尾号 {card[^4..]}。" + (gift is null ? string.Empty : $"新会员礼包「{gift}」已放入您的账户。");
        await outbox.QueueAsync(message.MemberId, NotificationId, "welcome", text, marketing: false, cancellationToken);
    }

    /// <summary>Grants the configured sign-up pack once; returns its name, or null when none was granted.</summary>
    private async Task<string?> GrantSignUpPackAsync(string memberId, string storeId, CancellationToken ct)
    {
        var packs = await programme.GetGiftPacksAsync(ct);
        if (packs.SignUpPack is not { } packId)
        {
            return null;
        }

        var plan = await issuer.PlanPackAsync(packId, "signup", storeId, ct);
        if (!plan.IsSuccess)
        {
            logger.LogWarning("Sign-up pack {PackId} not granted to {MemberId}: {Reason}", packId, memberId, plan.Error.Message);
            return null;
        }

        // A constant request hash: a redelivery replays the first grant even if the pack was changed in between.
        var outcome = await issuer.IssueAsync(memberId, plan.Value, new IdempotencyContext(SignUpScope, memberId, "signup"), "system", ct);
        if (outcome is Refused refused)
        {
            logger.LogWarning("Sign-up pack {PackId} not granted to {MemberId}: {Code}", packId, memberId, refused.Error.Code);
            return null;
        }

        return packs.Find(packId)!.Name;
    }
}
