using Loyalty.Domain.Programme;

namespace Loyalty.Domain.Tests;

/// <summary>Programme rules for tests: the defaults, with the earning rules and member days a test cares about.</summary>
internal static class TestRules
{
    public static ProgrammeRules With(EarningRules earning, IReadOnlyList<MemberDayRule>? memberDays = null) => new(
        earning,
        ProgrammeRules.DefaultTiers,
        memberDays ?? [],
        TopUpRules.Default,
        StoredValueRules.Default,
        ProgrammeRules.DefaultRewards,
        AdjustmentAuthority.Default,
        "test");
}
