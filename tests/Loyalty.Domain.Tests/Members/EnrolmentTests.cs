using Loyalty.Domain.Members;
using Loyalty.Domain.Org;
using Loyalty.Domain.Tests.Org;
using Xunit;

namespace Loyalty.Domain.Tests.Members;

public sealed class EnrolmentTests
{
    private static readonly OrgTree Org = OrgTree.Create(OrgTreeTests.Chain).Value!;
    private static readonly DateOnly Today = new(2026, 11, 22);

    [Fact]
    public void Create_FullInput_KeepsEveryField()
    {
        var result = Enrolment.Create("13800138000", "  王芳 ", "1996-02-29", "female", "sh-001", "miniProgram", "personal", true, Org, Today);

        var e = result.Value!;
        Assert.Equal("+8613800138000", e.Phone.Value);
        Assert.Equal("王芳", e.Name);
        Assert.Equal(new DateOnly(1996, 2, 29), e.Birthday);
        Assert.Equal(Gender.Female, e.Gender);
        Assert.Equal(EnrolmentChannel.MiniProgram, e.Channel);
        Assert.True(e.MarketingConsent);
    }

    [Fact]
    public void Create_MinimalInput_Defaults()
    {
        var e = Enrolment.Create("13800138000", "Li", null, null, "gz-001", null, null, null, Org, Today).Value!;

        Assert.Null(e.Birthday);
        Assert.Equal(Gender.Unspecified, e.Gender);
        Assert.Equal(EnrolmentChannel.Store, e.Channel);
        Assert.Equal(CardType.Personal, e.CardType);
        Assert.False(e.MarketingConsent);
    }

    [Theory]
    [InlineData("2026-11-23")]
    [InlineData("1890-01-01")]
    [InlineData("1990-02-30")]
    [InlineData("1990/01/01")]
    [InlineData("01-01-1990")]
    [InlineData("yesterday")]
    public void Create_BadBirthday_Rejected(string birthday) =>
        Assert.Equal("birthday_invalid", Create(birthday: birthday).Error!.Code);

    [Theory]
    [InlineData("east", "store_unknown")]
    [InlineData("hq", "store_unknown")]
    [InlineData("nowhere", "store_unknown")]
    [InlineData("", "store_required")]
    public void Create_StoreMustBeAStore(string storeId, string code) =>
        Assert.Equal(code, Create(storeId: storeId).Error!.Code);

    [Theory]
    [InlineData("", "name_invalid")]
    [InlineData("   ", "name_invalid")]
    [InlineData("a\u0007b", "name_invalid")]
    public void Create_BadName_Rejected(string name, string code) => Assert.Equal(code, Create(name: name).Error!.Code);

    [Fact]
    public void Create_LongName_Rejected() => Assert.Equal("name_invalid", Create(name: new string('x', 51)).Error!.Code);

    [Theory]
    [InlineData("gender", "other", "gender_invalid")]
    [InlineData("gender", "1", "gender_invalid")]
    [InlineData("channel", "fax", "channel_invalid")]
    [InlineData("channel", "0", "channel_invalid")]
    [InlineData("cardType", "group", "card_type_invalid")]
    [InlineData("cardType", "gold", "card_type_invalid")]
    public void Create_BadChoice_Rejected(string field, string value, string code)
    {
        var result = field switch
        {
            "gender" => Create(gender: value),
            "channel" => Create(channel: value),
            _ => Create(cardType: value),
        };

        Assert.Equal(code, result.Error!.Code);
        Assert.Equal(field, result.Error.Field);
    }

    private static Loyalty.Domain.Common.Result<Enrolment> Create(
        string? name = "Li", string? birthday = null, string? storeId = "sh-001", string? gender = null, string? channel = null, string? cardType = null) =>
        Enrolment.Create("13800138000", name, birthday, gender, storeId, channel, cardType, null, Org, Today);
}
