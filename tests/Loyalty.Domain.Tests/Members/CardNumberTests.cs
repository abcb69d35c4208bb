using Loyalty.Domain.Members;
using Xunit;

namespace Loyalty.Domain.Tests.Members;

public sealed class CardNumberTests
{
    [Fact]
    public void Generate_ManyNumbers_AllParseWithPrefix()
    {
        for (var i = 0; i < 1000; i++)
        {
            var card = CardNumber.Generate("8860");

            Assert.StartsWith("8860", card.Value, StringComparison.Ordinal);
            Assert.Equal(16, card.Value.Length);
            Assert.True(CardNumber.Parse(card.Value).IsSuccess);
        }
    }

    [Fact]
    public void Parse_AnySingleDigitChanged_IsRejected()
    {
        var card = CardNumber.Generate("8860").Value;
        for (var position = 0; position < card.Length; position++)
        {
            var digit = card[position] - '0';
            var changed = card[..position] + (char)('0' + ((digit + 1) % 10)) + card[(position + 1)..];

            var result = CardNumber.Parse(changed);

            Assert.False(result.IsSuccess, $"changing position {position} went unnoticed");
            Assert.Equal("card_number_invalid", result.Error!.Code);
        }
    }

    [Theory]
    [InlineData("4539578763621486")]
    [InlineData("4539 5787 6362 1486")]
    public void Parse_KnownLuhnValid_Accepted(string input) => Assert.True(CardNumber.Parse(input).IsSuccess);

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("453957876362148")]
    [InlineData("45395787636214860")]
    [InlineData("453957876362148a")]
    public void Parse_WrongShape_Rejected(string? input) => Assert.Equal("card_number_invalid", CardNumber.Parse(input).Error!.Code);

    [Theory]
    [InlineData("")]
    [InlineData("1234567")]
    [InlineData("88a")]
    public void Generate_BadPrefix_Throws(string prefix) => Assert.Throws<ArgumentException>(() => CardNumber.Generate(prefix));
}
