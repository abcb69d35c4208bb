using System.Globalization;
using System.Text.RegularExpressions;
using Loyalty.Functions.Tests.Hosting;
using Loyalty.Functions.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Loyalty.Functions.Tests.Docs;

/// <summary>
/// Every example of docs/api.md and requests.http runs as written against the demo chain (issue 23): each request is
/// sent in order and answers what the text says it answers. Both walkthroughs share one demo chain, in either order,
/// as they do for a reader who tries both on one run-local.sh.
/// </summary>
public sealed partial class DocExamplesTests(DemoChainApp app, ITestOutputHelper output) : IClassFixture<DemoChainApp>
{
    [Fact]
    public async Task Api_md_examples_run_as_written_against_the_demo_chain()
    {
        var examples = HttpExamples.FromMarkdown("docs/api.md", await File.ReadAllTextAsync(OpenApiDocumentTests.FindRepoFile("docs/api.md")));

        // What api.md leaves to the reader: {name} placeholders, a "<...>" signature and "…" elisions must all be bound.
        var runner = new ExampleRunner(app, output, ApiMdUnfilled());
        runner.Bind("{hqAdminKey}", LoyaltyApp.AdminKey);
        runner.Bind("{storeManagerKey}", await app.KeyForAsync("storeManager", "sh-001"));
        runner.Bind("{terminalKey}", null);

        // The sample ids of the walkthrough stand for what the answers before them returned.
        runner.Bind("M4Z0K1Q8W2R7C", null);
        runner.Bind("8860123456789012", null);
        runner.Bind("K7QW8M2DXP4A", null);

        // The shop's timestamp is "now" for a reader (the app refuses one more than 5 minutes off).
        runner.Bind("1795000000", DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));

        runner.OnAnswer("POST /api/principals", principal => runner.Provide("{terminalKey}", principal.GetProperty("apiKey").GetString()!));
        runner.OnAnswer("POST /api/members", async member =>
        {
            runner.Provide("M4Z0K1Q8W2R7C", member.GetProperty("memberId").GetString()!);
            runner.Provide("8860123456789012", member.GetProperty("cards")[0].GetProperty("cardNumber").GetString()!);
            await runner.SignUpPackGrantedAsync(member.GetProperty("memberId").GetString()!);
        });
        runner.OnAnswer("POST /api/members/M4Z0K1Q8W2R7C/coupons", issued => runner.Provide("K7QW8M2DXP4A", issued.GetProperty("coupons")[0].GetProperty("code").GetString()!));
        runner.OnAnswer("POST /api/config/shops/online/secrets", secret => runner.SignWith(secret.GetProperty("secret").GetString()!));

        await runner.RunAsync(examples);
        output.WriteLine($"{runner.Sent} requests of docs/api.md sent");
    }

    [Fact]
    public async Task Requests_http_runs_as_written_against_the_demo_chain()
    {
        var text = await File.ReadAllTextAsync(OpenApiDocumentTests.FindRepoFile("requests.http"));
        var examples = HttpExamples.FromHttpFile("requests.http", text);
        var variables = HttpExamples.Variables(text);

        var runner = new ExampleRunner(app, output, RequestsHttpUnfilled());

        // The variables the file asks the reader to paste, with what run-local.sh prints and what the answers return.
        string[] pasted = ["admin", "terminal", "memberId", "couponCode"];
        Assert.All(pasted, name => Assert.StartsWith("paste-", variables[name], StringComparison.Ordinal));
        runner.Bind("{{base}}", app.BaseUrl);
        runner.Bind("{{admin}}", LoyaltyApp.AdminKey);
        runner.Bind("{{terminal}}", app.TerminalKey);
        runner.Bind("{{memberId}}", null);
        runner.Bind("{{couponCode}}", null);
        foreach (var (name, value) in variables.Where(v => v.Key != "base" && !pasted.Contains(v.Key)))
        {
            runner.Bind("{{" + name + "}}", value);
        }

        runner.OnAnswer("POST {{base}}/api/members", async member =>
        {
            runner.Provide("{{memberId}}", member.GetProperty("memberId").GetString()!);
            await runner.SignUpPackGrantedAsync(member.GetProperty("memberId").GetString()!);
        });
        runner.OnAnswer("GET {{base}}/api/members/{{memberId}}/coupons?state=issued", coupons => runner.Provide(
            "{{couponCode}}",
            coupons.GetProperty("items").EnumerateArray().First(c => c.GetProperty("templateId").GetString() == "welcome-10").GetProperty("code").GetString()!));

        await runner.RunAsync(examples);
        output.WriteLine($"{runner.Sent} requests of requests.http sent");
    }

    [Fact]
    public void Statuses_stated_in_the_text_are_read()
    {
        var examples = HttpExamples.FromMarkdown("t.md", string.Join('\n',
            "```http", "POST /api/a", "X-Api-Key: {k}", "", "{\"a\":1}", "", "### too late -> 409 coupon_used", "GET /api/b", "```",
            "text", "```http", "GET /api/c", "```", "", "`201` -> something", "```http", "GET /api/d", "```", "text"));
        Assert.Equal(["POST /api/a", "GET /api/b", "GET /api/c", "GET /api/d"], examples.Select(e => e.Written));
        Assert.Equal([null, 409, 201, null], examples.Select(e => e.Status));
        Assert.Equal([null, "coupon_used", null, null], examples.Select(e => e.Code));
        Assert.Equal("{\"a\":1}", examples[0].Body);
        Assert.Equal("t.md:8", examples[1].Source);

        Assert.Throws<FormatException>(() => HttpExamples.FromMarkdown("t.md", "```http\nGET /api/members?phone=139 1234 5678\n```"));
        Assert.Throws<FormatException>(() => HttpExamples.FromMarkdown("t.md", "```\nGET /api/members\n```"));
    }

    [GeneratedRegex(@"\{[A-Za-z]+\}|<[^<>]*>|…|\.\.\.")]
    private static partial Regex ApiMdUnfilled();

    [GeneratedRegex(@"\{\{[^{}]*\}\}|paste-")]
    private static partial Regex RequestsHttpUnfilled();
}
