using Loyalty.Domain.Auth;
using Loyalty.Domain.Members;
using Loyalty.Functions.Programme;
using Loyalty.Storage.Ledger;

namespace Loyalty.Functions.Members;

/// <summary>Builds the one member view that enrolment, lookup and GET all answer with.</summary>
internal sealed class MemberViews(ProgrammeConfig programme, MemberTransactions transactions, TimeProvider time)
{
    /// <summary>The view of <paramref name="member"/> for a caller in <paramref name="viewer"/>'s role.</summary>
    public async Task<MemberView> BuildAsync(MemberSnapshot member, Role viewer, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(member);
        var rules = await programme.GetRulesAsync(ct);
        return MemberView.From(member, viewer)
            .WithExpiry(member.Account, await programme.GetPointsExpiryAsync(ct), transactions.CurrentMonth)
            .WithMembership(member.Account, rules.Tiers, time.GetUtcNow());
    }
}
