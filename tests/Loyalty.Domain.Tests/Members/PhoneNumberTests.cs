using Loyalty.Domain.Members;
using Xunit;

namespace Loyalty.Domain.Tests.Members;

public sealed class PhoneNumberTests
{
    [Theory]
    [InlineData("13800138000", "+8613800138000")]
    [InlineData("138 0013 8000", "+8613800138000")]
    [InlineData("138-0013-8000", "+8613800138000")]
    [InlineData("+86 138 0013 8000", "+8613800138000")]
    [InlineData("+85291234567", "+85291234567")]
    [InlineData("+14155550100", "+14155550100")]
    public void Parse_AcceptedForms_NormaliseToE164(string input, string expected) =>
        Assert.Equal(expected, PhoneNumber.Parse(input).Value!.Value);

    [Theory]
    [InlineData(null, "phone_required")]
    [InlineData("  ", "phone_required")]
    [InlineData("12800138000", "phone_invalid")]
    [InlineData("1380013800", "phone_invalid")]
    [InlineData("138001380001", "phone_invalid")]
    [InlineData("+8612800138000", "phone_invalid")]
    [InlineData("+0123456789", "phone_invalid")]
    [InlineData("phone", "phone_invalid")]
    [InlineData("+1234567", "phone_invalid")]
    public void Parse_Rejected_WithCode(string? input, string code) =>
        Assert.Equal(code, PhoneNumber.Parse(input).Error!.Code);

    [Fact]
    public void Masked_HidesTheMiddle() =>
        Assert.Equal("+86138****8000", PhoneNumber.Parse("13800138000").Value!.Masked);
}
