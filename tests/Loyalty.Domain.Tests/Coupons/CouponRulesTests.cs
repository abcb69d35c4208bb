using Loyalty.Domain.Coupons;
using Loyalty.Domain.Org;
using Xunit;

namespace Loyalty.Domain.Tests.Coupons;

public sealed class CouponRulesTests
{
    private static readonly System.Text.Json.JsonSerializerOptions Json = new(System.Text.Json.JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.CamelCase) },
    };

    private static readonly TimeZoneInfo Shanghai = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");

    private static readonly OrgTree Org = OrgTree.Create(
    [
        new OrgNode("hq", OrgNodeKind.Hq, "HQ", null),
        new OrgNode("east", OrgNodeKind.Region, "East", "hq"),
        new OrgNode("south", OrgNodeKind.Region, "South", "hq"),
        new OrgNode("sh-001", OrgNodeKind.Store, "SH", "east"),
        new OrgNode("gz-001", OrgNodeKind.Store, "GZ", "south"),
    ]).Value!;

    private static CouponTemplate Template(string id = "t-1") => new(id, "满100减10", CouponKind.AmountOff, AmountOff: 1_000, MinSpend: 10_000, ValidDays: 7);

    [Fact]
    public void Window_RelativeDays_EndsAtLocalMidnightAfterTheLastDay()
    {
        // 2026-11-22 23:30 in Shanghai is 15:30 UTC; day of issue + 7 days: valid through 2026-11-29 local.
        var issued = new DateTimeOffset(2026, 11, 22, 15, 30, 0, TimeSpan.Zero);
        var (from, until) = Template().Window(issued, Shanghai);

        Assert.Equal(issued, from);
        Assert.Equal(new DateTimeOffset(2026, 11, 29, 16, 0, 0, TimeSpan.Zero), until);
    }

    [Fact]
    public void Window_FixedDates_AreInclusiveLocalDays()
    {
        var template = Template() with { ValidDays = null, ValidFrom = new DateOnly(2026, 12, 1), ValidTo = new DateOnly(2026, 12, 31) };
        var (from, until) = template.Window(DateTimeOffset.UtcNow, Shanghai);

        Assert.Equal(new DateTimeOffset(2026, 11, 30, 16, 0, 0, TimeSpan.Zero), from);
        Assert.Equal(new DateTimeOffset(2026, 12, 31, 16, 0, 0, TimeSpan.Zero), until);
    }

    [Fact]
    public void Codes_AreDeterministicPerIssue_AndDistinctAcrossPositions()
    {
        var key = "secret-key-0123456789"u8.ToArray();
        var a = CouponCode.Derive(key, "m1", "issue-1", 0);

        Assert.Equal(a, CouponCode.Derive(key, "m1", "issue-1", 0));
        Assert.NotEqual(a, CouponCode.Derive(key, "m1", "issue-1", 1));
        Assert.NotEqual(a, CouponCode.Derive(key, "m2", "issue-1", 0));
        Assert.NotEqual(a, CouponCode.Derive("another-key-0123456"u8.ToArray(), "m1", "issue-1", 0));
        Assert.Equal(a, CouponCode.Normalise(a.ToLowerInvariant()[..4] + "-" + a[4..8] + " " + a[8..]));
        Assert.Null(CouponCode.Normalise("0000OOOO1111")); // look-alikes are not in the alphabet
        Assert.Null(CouponCode.Normalise(a[..11]));
    }

    [Theory]
    [InlineData(CouponState.Redeemed, "coupon_used")]
    [InlineData(CouponState.Expired, "coupon_expired")]
    [InlineData(CouponState.Revoked, "coupon_revoked")]
    public void CheckUsable_RefusesEveryStateButIssued(CouponState state, string code)
    {
        var now = DateTimeOffset.UtcNow;
        var coupon = Issued(now) with { State = state };

        Assert.Equal(code, coupon.CheckUsable("sh-001", Org, now)!.Code);
    }

    [Fact]
    public void CheckUsable_EnforcesTheWindowAndTheStoresThroughRegions()
    {
        var now = DateTimeOffset.UtcNow;
        var coupon = Issued(now) with { Terms = Template().Terms with { Stores = ["east"] } };

        Assert.Null(coupon.CheckUsable("sh-001", Org, now));
        Assert.Equal("coupon_store_ineligible", coupon.CheckUsable("gz-001", Org, now)!.Code);
        Assert.Equal("coupon_expired", coupon.CheckUsable("sh-001", Org, coupon.ValidUntil)!.Code);
        Assert.Equal("coupon_not_yet_valid", coupon.CheckUsable("sh-001", Org, coupon.ValidFrom.AddTicks(-1))!.Code);
    }

    [Theory]
    [InlineData("stores", """{"stores":["nowhere"]}""")]
    [InlineData("kind", """{"percentOff":10}""")]
    [InlineData("validDays", """{"validFrom":"2026-12-01","validTo":"2026-12-31"}""")]
    [InlineData("validDays", """{"validDays":0}""")]
    [InlineData("budget", """{"kind":"freeItem","amountOff":null,"sku":"MILK","budget":100000}""")]
    [InlineData("amountOff", """{"amountOff":-5}""")]
    [InlineData("minSpend", """{"minSpend":-1}""")]
    [InlineData("templateId", """{"templateId":"Bad Id"}""")]
    public void Validation_RefusesBrokenTemplates(string field, string patch)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(Template(), Json))!.AsObject();
        foreach (var (name, value) in System.Text.Json.Nodes.JsonNode.Parse(patch)!.AsObject())
        {
            node[name] = value?.DeepClone();
        }

        var template = System.Text.Json.JsonSerializer.Deserialize<CouponTemplate>(node.ToJsonString(), Json)!;
        var error = CouponValidation.Check([template], Org);

        Assert.NotNull(error);
        Assert.Equal("config_invalid", error.Code);
        Assert.Equal(field, error.Field);
    }

    [Fact]
    public void Validation_AcceptsEachKind_AndRefusesDuplicateIds()
    {
        CouponTemplate[] templates =
        [
            Template("amount"),
            new("percent", "九折", CouponKind.PercentOff, PercentOff: 10, MaxDiscount: 2_000, ValidFrom: new DateOnly(2026, 1, 1), ValidTo: new DateOnly(2026, 12, 31), Budget: 1_000_000),
            new("free", "免费咖啡", CouponKind.FreeItem, Sku: "COFFEE", ItemValue: 1_800, ValidDays: 30, Stores: ["east", "gz-001"], MaxIssued: 100),
        ];

        Assert.Null(CouponValidation.Check(templates, Org));
        Assert.Equal("templateId", CouponValidation.Check([Template("x"), Template("x")], Org)!.Field);
    }

    [Fact]
    public void GiftPacks_MustNameKnownTemplates_AndAnExistingSignUpPack()
    {
        CouponTemplate[] templates = [Template("t-1")];
        var good = new GiftPackRules([new GiftPack("welcome", "新人礼包", 100, [new GiftPackCoupon("t-1", 2)])], "welcome");

        Assert.Null(CouponValidation.Check(good, templates));
        Assert.Equal("templateId", CouponValidation.Check(good with { Packs = [new GiftPack("welcome", "x", 0, [new GiftPackCoupon("nope")])] }, templates)!.Field);
        Assert.Equal("signUpPack", CouponValidation.Check(good with { SignUpPack = "missing" }, templates)!.Field);
        Assert.Equal("points", CouponValidation.Check(good with { Packs = [new GiftPack("welcome", "empty")] }, templates)!.Field);
        Assert.Equal("coupons", CouponValidation.Check(good with { Packs = [new GiftPack("welcome", "x", 0, [new GiftPackCoupon("t-1", 11)])] }, templates)!.Field);
    }

    private static Coupon Issued(DateTimeOffset now)
    {
        var template = Template();
        var (from, until) = template.Window(now, Shanghai);
        return new Coupon("ABCDEFGHJKMN", "m1", template.TemplateId, template.Name, template.Terms, template.FaceValue, from, until, CouponState.Issued, "ops", now);
    }
}
