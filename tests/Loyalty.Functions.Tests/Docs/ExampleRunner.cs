using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Loyalty.Functions.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Loyalty.Functions.Tests.Docs;

/// <summary>
/// Sends documentation examples in order, as written, and checks each answer against what the text states. The only
/// changes made to an example are its bindings: each names a piece of text the example leaves to the reader (a
/// placeholder such as <c>{terminalKey}</c> or <c>{{memberId}}</c>, or a sample id that an earlier answer of the
/// walkthrough returned) and the value sent in its place, known from the start or taken from an earlier answer.
/// </summary>
internal sealed partial class ExampleRunner(LoyaltyApp app, ITestOutputHelper output, Regex unfilled)
{
    // Written text -> value sent; null until the answer that provides it has come.
    private readonly Dictionary<string, string?> _bindings = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Func<JsonElement, Task>> _captures = new(StringComparer.Ordinal);
    private readonly List<string> _failures = [];
    private string? _webhookSecret;

    /// <summary>How many requests were sent.</summary>
    public int Sent { get; private set; }

    /// <summary>Binds written text to a value known now, or (null) to one an earlier answer is to provide.</summary>
    public void Bind(string written, string? value) => _bindings[written] = value;

    /// <summary>Provides the value of text bound earlier without one.</summary>
    public void Provide(string written, string value)
    {
        Assert.True(_bindings.ContainsKey(written), $"'{written}' has no binding.");
        Assert.False(string.IsNullOrEmpty(value), $"The answer gave no value for '{written}'.");
        _bindings[written] = value;
    }

    /// <summary>What to take from the 2xx JSON answer to the request written as <c>METHOD target</c>.</summary>
    public void OnAnswer(string written, Func<JsonElement, Task> capture) => _captures.Add(written, capture);

    /// <inheritdoc cref="OnAnswer(string, Func{JsonElement, Task})"/>
    public void OnAnswer(string written, Action<JsonElement> capture) =>
        OnAnswer(written, answer =>
        {
            capture(answer);
            return Task.CompletedTask;
        });

    /// <summary>The shop secret the signature placeholder of a webhook example is computed with.</summary>
    public void SignWith(string secret) => _webhookSecret = secret;

    /// <summary>
    /// Waits until the member's welcome notification exists, which WelcomeNewMember writes after granting the sign-up
    /// pack: the pace of a reader, whose next step comes seconds after the enrolment, not milliseconds.
    /// </summary>
    public async Task SignUpPackGrantedAsync(string memberId)
    {
        using var admin = app.Client(LoyaltyApp.AdminKey);
        await Api.EventuallyAsync(
            async () => (await admin.GetJsonAsync($"/api/members/{memberId}/notifications")).GetProperty("items").GetArrayLength() > 0,
            $"the sign-up pack of {memberId}");
    }

    /// <summary>Sends every example in order; fails listing every example that did not answer as stated.</summary>
    public async Task RunAsync(IReadOnlyList<HttpExample> examples)
    {
        ArgumentNullException.ThrowIfNull(examples);
        Assert.True(_bindings.Keys.All(written => examples.Any(e => Mentions(e, written))), "Bindings no example uses: " +
            string.Join(", ", _bindings.Keys.Where(written => !examples.Any(e => Mentions(e, written)))));
        Assert.True(_captures.Keys.All(written => examples.Any(e => e.Written == written)), "Captures no example matches: " +
            string.Join(", ", _captures.Keys.Where(written => !examples.Any(e => e.Written == written))));
        using var client = app.Client();
        foreach (var example in examples)
        {
            try
            {
                await RunAsync(client, example);
            }
            catch (Xunit.Sdk.XunitException e)
            {
                _failures.Add($"{example}: {e.Message}");
            }
        }

        Assert.True(_failures.Count == 0, $"{_failures.Count} of {examples.Count} examples did not run as written:\n" + string.Join("\n\n", _failures));
    }

    private static bool Mentions(HttpExample example, string written) =>
        example.Target.Contains(written, StringComparison.Ordinal) || example.Body.Contains(written, StringComparison.Ordinal)
        || example.Headers.Any(h => h.Value.Contains(written, StringComparison.Ordinal));

    private async Task RunAsync(HttpClient client, HttpExample example)
    {
        var target = Fill(example.Target);
        var body = Fill(example.Body);
        var headers = example.Headers.Select(h => KeyValuePair.Create(h.Key, Signature().Replace(Fill(h.Value), m => Sign(m.Groups["timestamp"].Value, body)))).ToList();
        foreach (var text in headers.Select(h => h.Value).Prepend(body).Prepend(target))
        {
            var left = unfilled.Match(text);
            Assert.False(left.Success, $"'{left.Value}' is left to the reader, and nothing binds it.");
        }

        using var request = new HttpRequestMessage(new HttpMethod(example.Method), target);
        if (body.Length > 0)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        }

        foreach (var (name, value) in headers)
        {
            if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
            {
                request.Content ??= new ByteArrayContent([]);
                request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(value);
            }
            else
            {
                Assert.True(request.Headers.TryAddWithoutValidation(name, value), $"header {name}");
            }
        }

        // The personal numbers the example sends (phones, card numbers) must not reach the log either.
        foreach (Match number in Digits().Matches(target + "\n" + body))
        {
            LoyaltyApp.PersonalNumbers.TryAdd(number.Value, 0);
        }

        using var response = await client.SendAsync(request);
        Sent++;
        var status = (int)response.StatusCode;
        var media = response.Content.Headers.ContentType?.MediaType ?? "";
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var json = media.EndsWith("json", StringComparison.Ordinal) && bytes.Length > 0 ? JsonDocument.Parse(bytes).RootElement.Clone() : (JsonElement?)null;
        var shown = json?.ToString() ?? $"{bytes.Length} bytes of {media}";
        output.WriteLine($"{example.Source} {example.Method} {target} -> {status} {(shown.Length > 200 ? shown[..200] + "…" : shown)}");

        var expected = example.Status is { } stated ? stated.ToString(CultureInfo.InvariantCulture) : "2xx";
        Assert.True(example.Status is { } s ? status == s : status is >= 200 and < 300, $"expected {expected}, got {status}: {shown}");
        if (example.Code is { } code)
        {
            Assert.True(json is { ValueKind: JsonValueKind.Object } problem && problem.TryGetProperty("code", out var actual) && actual.GetString() == code, $"expected the problem {code}, got {shown}");
        }

        if (json is { } answer)
        {
            foreach (var number in Numbers(answer))
            {
                LoyaltyApp.PersonalNumbers.TryAdd(number, 0);
            }

            if (status is >= 200 and < 300 && _captures.TryGetValue(example.Written, out var capture))
            {
                await capture(answer);
            }
        }
    }

    // The written text with every binding applied (longest first, so that no binding cuts into a longer one).
    private string Fill(string text)
    {
        foreach (var (written, value) in _bindings.OrderByDescending(b => b.Key.Length))
        {
            if (text.Contains(written, StringComparison.Ordinal))
            {
                Assert.True(value is not null, $"'{written}' is used before the example whose answer provides it.");
                text = text.Replace(written, value, StringComparison.Ordinal);
            }
        }

        return text;
    }

    private string Sign(string timestamp, string body)
    {
        Assert.True(_webhookSecret is not null, "A signature is asked for before a shop secret was created.");
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(_webhookSecret), Encoding.UTF8.GetBytes(timestamp + "." + body));
        return Convert.ToHexStringLower(mac);
    }

    // Phone and card numbers in an answer (cards[].cardNumber, newCard.cardNumber, a shown phone).
    private static IEnumerable<string> Numbers(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().SelectMany(p =>
            p.Value.ValueKind == JsonValueKind.String && p.Name is "cardNumber" or "phone"
                ? Digits().Matches(p.Value.GetString()!).Select(m => m.Value)
                : Numbers(p.Value)),
        JsonValueKind.Array => element.EnumerateArray().SelectMany(Numbers),
        _ => [],
    };

    // The placeholder docs/api.md writes for a shop's signature: <hex HMAC-SHA256(secret, "{timestamp}." + raw body)>.
    [GeneratedRegex(@"<hex HMAC-SHA256\(secret, ""(?<timestamp>[0-9]+)\."" \+ raw body\)>")]
    private static partial Regex Signature();

    [GeneratedRegex("[0-9]{11,19}")]
    private static partial Regex Digits();
}
