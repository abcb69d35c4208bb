using System.Net;
using System.Text.Json;
using Loyalty.Domain.Members;
using Loyalty.Functions.Tests.Support;
using Xunit;
using static Loyalty.Functions.Tests.Support.Api;

namespace Loyalty.Functions.Tests.Members;

public sealed class EnrolMemberTests(LoyaltyApp app) : IClassFixture<LoyaltyApp>
{
    [Fact]
    public async Task Enrol_ValidMember_Returns201WithCardAndEmptyBalances()
    {
        using var client = app.Client(LoyaltyApp.AdminKey);
        var phone = LoyaltyApp.NewPhone();

        var response = await client.EnrolAsync(new { phone, name = "王芳", birthday = "1996-02-29", gender = "female", storeId = "sh-001", channel = "miniProgram" }, Guid.NewGuid().ToString());

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var member = await response.JsonAsync();
        var memberId = member.GetProperty("memberId").GetString()!;
        Assert.True(MemberId.IsWellFormed(memberId));
        Assert.Equal($"/api/members/{memberId}", response.Headers.Location?.ToString());
        Assert.Equal("+86" + phone, member.GetProperty("phone").GetString());
        Assert.Equal("王芳", member.GetProperty("name").GetString());
        Assert.Equal("1996-02-29", member.GetProperty("birthday").GetString());
        Assert.Equal("miniProgram", member.GetProperty("channel").GetString());
        Assert.Equal("standard", member.GetProperty("tier").GetString());
        Assert.Equal(0, member.GetProperty("balances").GetProperty("points").GetInt64());
        Assert.Equal(0, member.GetProperty("balances").GetProperty("storedValue").GetProperty("principal").GetInt64());
        var card = Assert.Single(member.GetProperty("cards").EnumerateArray());
        Assert.True(CardNumber.Parse(card.GetProperty("cardNumber").GetString()).IsSuccess);
        Assert.StartsWith("8860", card.GetProperty("cardNumber").GetString(), StringComparison.Ordinal);
        Assert.Equal("active", card.GetProperty("status").GetString());
    }

    [Fact]
    public async Task GetAndLookup_ReturnTheEnrolledMember()
    {
        using var client = app.Client(LoyaltyApp.AdminKey);
        var phone = LoyaltyApp.NewPhone();
        var enrolled = await (await client.EnrolAsync(new { phone, name = "Li", storeId = "gz-001" }, Guid.NewGuid().ToString())).JsonAsync();
        var memberId = enrolled.GetProperty("memberId").GetString();
        var card = enrolled.GetProperty("cards")[0].GetProperty("cardNumber").GetString();

        var byId = await (await client.GetAsync($"/api/members/{memberId}")).JsonAsync();
        var byPhone = await (await client.GetAsync($"/api/members?phone={Uri.EscapeDataString("+86 " + phone)}")).JsonAsync();
        var byCard = await (await client.GetAsync($"/api/members?cardNumber={card}")).JsonAsync();

        Assert.Equal(enrolled.GetRawText(), byId.GetRawText());
        Assert.Equal(memberId, byPhone.GetProperty("memberId").GetString());
        Assert.Equal(memberId, byCard.GetProperty("memberId").GetString());
    }

    [Fact]
    public async Task Get_AsTerminal_MasksThePhone()
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        var phone = LoyaltyApp.NewPhone();
        var memberId = (await (await admin.EnrolAsync(new { phone, name = "Li", storeId = "gz-001" }, Guid.NewGuid().ToString())).JsonAsync()).GetProperty("memberId").GetString();

        var seen = await (await terminal.GetAsync($"/api/members/{memberId}")).JsonAsync();

        Assert.Equal(PhoneNumber.Mask("+86" + phone), seen.GetProperty("phone").GetString());
        Assert.DoesNotContain(phone[3..7], seen.GetProperty("phone").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Enrol_Replay_ReturnsSameResponseAndCreatesOneMember()
    {
        using var client = app.Client(LoyaltyApp.AdminKey);
        var key = Guid.NewGuid().ToString();
        var body = new { phone = LoyaltyApp.NewPhone(), name = "Zhang", storeId = "sh-001" };

        var first = await client.EnrolAsync(body, key);
        var second = await client.EnrolAsync(body, key);

        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());
        Assert.Equal(first.Headers.Location, second.Headers.Location);
        Assert.Contains("true", second.Headers.GetValues("Idempotent-Replayed"));
    }

    [Fact]
    public async Task Enrol_SameKeyDifferentPayload_Returns422AndWritesNothing()
    {
        using var client = app.Client(LoyaltyApp.AdminKey);
        var key = Guid.NewGuid().ToString();
        var otherPhone = LoyaltyApp.NewPhone();
        await client.EnrolAsync(new { phone = LoyaltyApp.NewPhone(), name = "Zhang", storeId = "sh-001" }, key);

        var response = await client.EnrolAsync(new { phone = otherPhone, name = "Zhang", storeId = "sh-001" }, key);

        await response.AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "idempotency_key_reused");
        await (await client.GetAsync($"/api/members?phone={otherPhone}")).AssertProblemAsync(HttpStatusCode.NotFound, "member_not_found");
    }

    [Fact]
    public async Task Enrol_SameRequestConcurrently_OneMemberOthersReplayOrInFlight()
    {
        using var client = app.Client(LoyaltyApp.AdminKey);
        var key = Guid.NewGuid().ToString();
        var phone = LoyaltyApp.NewPhone();
        var body = new { phone, name = "Concurrent", storeId = "sh-001" };

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => client.EnrolAsync(body, key)));

        var created = responses.Where(r => r.StatusCode == HttpStatusCode.Created).ToList();
        Assert.NotEmpty(created);
        Assert.All(responses, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.Created, HttpStatusCode.Conflict }));
        foreach (var conflict in responses.Where(r => r.StatusCode == HttpStatusCode.Conflict))
        {
            await conflict.AssertProblemAsync(HttpStatusCode.Conflict, "idempotency_in_flight");
        }

        var ids = new HashSet<string>();
        foreach (var r in created)
        {
            ids.Add((await r.JsonAsync()).GetProperty("memberId").GetString()!);
        }

        var found = await (await client.GetAsync($"/api/members?phone={phone}")).JsonAsync();
        Assert.Equal(found.GetProperty("memberId").GetString(), Assert.Single(ids));
    }

    [Fact]
    public async Task Enrol_SamePhoneConcurrentlyWithDifferentKeys_ExactlyOneWins()
    {
        using var client = app.Client(LoyaltyApp.AdminKey);
        var phone = LoyaltyApp.NewPhone();

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            client.EnrolAsync(new { phone, name = $"Racer {i}", storeId = "sh-001" }, Guid.NewGuid().ToString())));

        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
        foreach (var loser in responses.Where(r => r.StatusCode != HttpStatusCode.Created))
        {
            await loser.AssertProblemAsync(HttpStatusCode.Conflict, "duplicate_phone");
        }
    }

    [Fact]
    public async Task Enrol_DuplicatePhoneInAnotherFormat_Returns409()
    {
        using var client = app.Client(LoyaltyApp.AdminKey);
        var phone = LoyaltyApp.NewPhone();
        await client.EnrolAsync(new { phone, name = "First", storeId = "sh-001" }, Guid.NewGuid().ToString());

        var response = await client.EnrolAsync(new { phone = $"+86 {phone[..3]}-{phone[3..7]}-{phone[7..]}", name = "Second", storeId = "gz-001" }, Guid.NewGuid().ToString());

        var problem = await response.AssertProblemAsync(HttpStatusCode.Conflict, "duplicate_phone");
        Assert.Equal("phone", problem.GetProperty("field").GetString());
        var found = await (await client.GetAsync($"/api/members?phone={phone}")).JsonAsync();
        Assert.Equal("First", found.GetProperty("name").GetString());
    }

    public static TheoryData<string, string, HttpStatusCode> BadBodies => new()
    {
        { """{"name":"Li","storeId":"sh-001"}""", "phone_required", HttpStatusCode.BadRequest },
        { """{"phone":"12345","name":"Li","storeId":"sh-001"}""", "phone_invalid", HttpStatusCode.BadRequest },
        { """{"phone":"+86 12800138000","name":"Li","storeId":"sh-001"}""", "phone_invalid", HttpStatusCode.BadRequest },
        { """{"phone":"PHONE_OK","name":"Li","storeId":"sh-001","birthday":"1990-13-01"}""", "birthday_invalid", HttpStatusCode.BadRequest },
        { """{"phone":"PHONE_OK","name":"Li","storeId":"sh-001","birthday":"2999-01-01"}""", "birthday_invalid", HttpStatusCode.BadRequest },
        { """{"phone":"PHONE_OK","name":"Li","storeId":"nowhere"}""", "store_unknown", HttpStatusCode.BadRequest },
        { """{"phone":"PHONE_OK","name":"Li","storeId":"east"}""", "store_unknown", HttpStatusCode.BadRequest },
        { """{"phone":"PHONE_OK","name":"","storeId":"sh-001"}""", "name_invalid", HttpStatusCode.BadRequest },
        { """{"phone":"PHONE_OK","name":"Li","storeId":"sh-001","points":100}""", "read_only_field", HttpStatusCode.BadRequest },
        { """{"phone":"PHONE_OK","name":"Li","storeId":"sh-001","balance":100}""", "read_only_field", HttpStatusCode.BadRequest },
        { """{"phone":"PHONE_OK","name":"Li","storeId":"sh-001","tier":"gold"}""", "read_only_field", HttpStatusCode.BadRequest },
        { """{"phone":"PHONE_OK","name":"Li","storeId":"sh-001","status":"active"}""", "read_only_field", HttpStatusCode.BadRequest },
        { """{"phone":"PHONE_OK","name":"Li","storeId":"sh-001","nickname":"x"}""", "unknown_field", HttpStatusCode.BadRequest },
        { """{"phone":"PHONE_OK","name":"Li","storeId":"sh-001",""", "malformed_json", HttpStatusCode.BadRequest },
        { """["PHONE_OK"]""", "malformed_json", HttpStatusCode.BadRequest },
        { """{"phone":"PHONE_OK","name":42,"storeId":"sh-001"}""", "malformed_json", HttpStatusCode.BadRequest },
        { "", "body_required", HttpStatusCode.BadRequest },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task Enrol_BadInput_ReturnsProblemAndWritesNothing(string template, string code, HttpStatusCode status)
    {
        using var client = app.Client(LoyaltyApp.AdminKey);
        var phone = LoyaltyApp.NewPhone();
        var key = Guid.NewGuid().ToString();

        var response = await client.SendAsync(Json(HttpMethod.Post, "/api/members", template.Replace("PHONE_OK", phone, StringComparison.Ordinal), key));

        await response.AssertProblemAsync(status, code);
        await AssertNothingWrittenAsync(client, phone, key);
    }

    [Fact]
    public async Task Enrol_OversizedBody_Returns413AndWritesNothing()
    {
        using var client = app.Client(LoyaltyApp.AdminKey);
        var phone = LoyaltyApp.NewPhone();
        var key = Guid.NewGuid().ToString();
        var body = JsonSerializer.Serialize(new { phone, name = "Li", storeId = "sh-001" })[..^1] + ",\"x\":\"" + new string('x', 70_000) + "\"}";

        var response = await client.SendAsync(Json(HttpMethod.Post, "/api/members", body, key));

        await response.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge, "body_too_large");
        await AssertNothingWrittenAsync(client, phone, key);
    }

    [Fact]
    public async Task Enrol_WithoutIdempotencyKey_Returns400()
    {
        using var client = app.Client(LoyaltyApp.AdminKey);
        var phone = LoyaltyApp.NewPhone();

        var response = await client.SendAsync(Json(HttpMethod.Post, "/api/members", JsonSerializer.Serialize(new { phone, name = "Li", storeId = "sh-001" })));

        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "idempotency_key_required");
        await (await client.GetAsync($"/api/members?phone={phone}")).AssertProblemAsync(HttpStatusCode.NotFound, "member_not_found");
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("中文")]
    public async Task Enrol_MalformedIdempotencyKey_Returns400(string key)
    {
        using var client = app.Client(LoyaltyApp.AdminKey);
        var request = Json(HttpMethod.Post, "/api/members", JsonSerializer.Serialize(new { phone = LoyaltyApp.NewPhone(), name = "Li", storeId = "sh-001" }));
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);

        await (await client.SendAsync(request)).AssertProblemAsync(HttpStatusCode.BadRequest, "idempotency_key_invalid");
    }

    [Fact]
    public async Task Enrol_TooLongIdempotencyKey_Returns400()
    {
        using var client = app.Client(LoyaltyApp.AdminKey);
        var response = await client.EnrolAsync(new { phone = LoyaltyApp.NewPhone(), name = "Li", storeId = "sh-001" }, new string('k', 129));
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "idempotency_key_invalid");
    }

    [Fact]
    public async Task Enrol_NotJson_Returns415()
    {
        using var client = app.Client(LoyaltyApp.AdminKey);
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/members") { Content = new StringContent("phone=1", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded") };
        request.Headers.Add("Idempotency-Key", "k");

        await (await client.SendAsync(request)).AssertProblemAsync(HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
    }

    [Fact]
    public async Task Enrol_TerminalAtAnotherStore_Returns403AndWritesNothing()
    {
        using var terminal = app.Client(await app.KeyForAsync("terminal", "sh-001"));
        var phone = LoyaltyApp.NewPhone();
        var key = Guid.NewGuid().ToString();

        var response = await terminal.EnrolAsync(new { phone, name = "Li", storeId = "gz-001" }, key);

        await response.AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden_scope");
        await AssertNothingWrittenAsync(terminal, phone, key);
    }

    [Fact]
    public async Task Enrol_RegionManager_AllowedForAStoreOfTheRegionOnly()
    {
        using var manager = app.Client(await app.KeyForAsync("regionManager", "east"));

        var inside = await manager.EnrolAsync(new { phone = LoyaltyApp.NewPhone(), name = "In", storeId = "hz-001" }, Guid.NewGuid().ToString());
        var outside = await manager.EnrolAsync(new { phone = LoyaltyApp.NewPhone(), name = "Out", storeId = "gz-001" }, Guid.NewGuid().ToString());

        Assert.Equal(HttpStatusCode.Created, inside.StatusCode);
        await outside.AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden_scope");
    }

    [Fact]
    public async Task Enrol_SendsWelcomeThroughTheOutbox()
    {
        using var client = app.Client(LoyaltyApp.AdminKey);
        var member = await (await client.EnrolAsync(new { phone = LoyaltyApp.NewPhone(), name = "欢迎", storeId = "sh-001" }, Guid.NewGuid().ToString())).JsonAsync();
        var memberId = member.GetProperty("memberId").GetString();
        var last4 = member.GetProperty("cards")[0].GetProperty("cardNumber").GetString()![^4..];
        JsonElement notification = default;

        await EventuallyAsync(
            async () =>
            {
                var items = (await (await client.GetAsync($"/api/members/{memberId}/notifications")).JsonAsync()).GetProperty("items");
                notification = items.EnumerateArray().FirstOrDefault();
                return items.GetArrayLength() == 1 && notification.GetProperty("status").GetString() == "sent";
            },
            "the welcome notification to be sent");

        Assert.Equal("welcome", notification.GetProperty("template").GetString());
        Assert.Equal("sms", notification.GetProperty("channel").GetString());
        Assert.Contains("欢迎", notification.GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Contains("测试连锁", notification.GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Contains(last4, notification.GetProperty("text").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/api/members/MNOTAMEMBER00")]
    [InlineData("/api/members/not-an-id")]
    [InlineData("/api/members?phone=13900000000")]
    [InlineData("/api/members?cardNumber=4539578763621486")]
    public async Task Get_Unknown_Returns404(string url)
    {
        using var client = app.Client(LoyaltyApp.AdminKey);
        await (await client.GetAsync(url)).AssertProblemAsync(HttpStatusCode.NotFound, "member_not_found");
    }

    [Theory]
    [InlineData("/api/members", "lookup_query_invalid")]
    [InlineData("/api/members?phone=13900000000&cardNumber=4539578763621486", "lookup_query_invalid")]
    [InlineData("/api/members?phone=abc", "phone_invalid")]
    [InlineData("/api/members?cardNumber=4539578763621487", "card_number_invalid")]
    public async Task Lookup_BadQuery_Returns400(string url, string code)
    {
        using var client = app.Client(LoyaltyApp.AdminKey);
        await (await client.GetAsync(url)).AssertProblemAsync(HttpStatusCode.BadRequest, code);
    }

    private static async Task AssertNothingWrittenAsync(HttpClient client, string phone, string key)
    {
        await (await client.GetAsync($"/api/members?phone={phone}")).AssertProblemAsync(HttpStatusCode.NotFound, "member_not_found");

        // The key was not consumed either: a valid request with it now succeeds.
        var retry = await client.EnrolAsync(new { phone, name = "Retry", storeId = "sh-001" }, key);
        Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
    }
}
