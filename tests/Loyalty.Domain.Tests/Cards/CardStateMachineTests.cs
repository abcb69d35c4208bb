using Loyalty.Domain.Cards;
using Loyalty.Domain.Members;
using Xunit;

namespace Loyalty.Domain.Tests.Cards;

public sealed class CardStateMachineTests
{
    [Theory]
    [InlineData(CardStatus.Active, CardOperation.ReportLost, CardStatus.Lost)]
    [InlineData(CardStatus.Frozen, CardOperation.ReportLost, CardStatus.Lost)]
    [InlineData(CardStatus.Lost, CardOperation.CancelLost, CardStatus.Active)]
    [InlineData(CardStatus.Active, CardOperation.Freeze, CardStatus.Frozen)]
    [InlineData(CardStatus.Frozen, CardOperation.Unfreeze, CardStatus.Active)]
    [InlineData(CardStatus.Lost, CardOperation.Replace, CardStatus.Cancelled)]
    [InlineData(CardStatus.Active, CardOperation.Cancel, CardStatus.Cancelled)]
    public void Apply_Allowed(CardStatus from, CardOperation op, CardStatus to) => Assert.Equal(to, CardStateMachine.Apply(from, op).Value);

    [Theory]
    [InlineData(CardStatus.Lost, CardOperation.ReportLost, "card_state_invalid")]
    [InlineData(CardStatus.Active, CardOperation.CancelLost, "card_state_invalid")]
    [InlineData(CardStatus.Lost, CardOperation.Freeze, "card_state_invalid")]
    [InlineData(CardStatus.Active, CardOperation.Unfreeze, "card_state_invalid")]
    [InlineData(CardStatus.Cancelled, CardOperation.CancelLost, "card_cancelled")]
    [InlineData(CardStatus.Cancelled, CardOperation.Replace, "card_cancelled")]
    public void Apply_Refused(CardStatus from, CardOperation op, string code) => Assert.Equal(code, CardStateMachine.Apply(from, op).Error!.Code);

    [Theory]
    [InlineData(CardStatus.Active, null)]
    [InlineData(CardStatus.Lost, "card_lost")]
    [InlineData(CardStatus.Frozen, "card_frozen")]
    [InlineData(CardStatus.Cancelled, "card_cancelled")]
    public void CheckUsable(CardStatus status, string? code) => Assert.Equal(code, CardStateMachine.CheckUsable(status)?.Code);
}
