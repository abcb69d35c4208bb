using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Loyalty.Bench;

/// <summary>Which operations a terminal performs, in percent.</summary>
internal sealed record Mix(int Lookups, int Sales, int TopUps, int Redemptions, int Refunds)
{
    public static Mix StoreDay { get; } = new(40, 35, 10, 10, 5);

    public static Mix SalesOnly { get; } = new(0, 100, 0, 0, 0);
}

/// <summary>
/// Store terminals over real HTTP: each picks a member at random and does what a till does, with a fresh
/// Idempotency-Key per operation. Any non-2xx answer is recorded as an error by its problem code.
/// </summary>
internal static class Terminals
{
    public static async Task RunAsync(string appUrl, IReadOnlyList<(string StoreId, string Key)> terminals, SeededMember[] members, Mix mix, TimeSpan duration, Recorder recorder, ISet<string> touched, string runId)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = terminals.Count * 2, PooledConnectionLifetime = TimeSpan.FromMinutes(10) };
        using var http = new HttpClient(handler) { BaseAddress = new Uri(appUrl), Timeout = TimeSpan.FromSeconds(30) };
        var until = DateTime.UtcNow + duration;
        await Task.WhenAll(terminals.Select(async (terminal, t) =>
        {
            var random = new Random(HashCode.Combine(runId, t));
            var sales = new Queue<string>();
            var n = 0;
            while (DateTime.UtcNow < until)
            {
                var member = members[random.Next(members.Length)];
                var roll = random.Next(100);
                var operation = roll < mix.Lookups ? "lookup"
                    : roll < mix.Lookups + mix.Sales ? "sale"
                    : roll < mix.Lookups + mix.Sales + mix.TopUps ? "topUp"
                    : roll < mix.Lookups + mix.Sales + mix.TopUps + mix.Redemptions ? "redemption"
                    : "refund";
                if (operation == "refund" && sales.Count == 0)
                {
                    operation = "sale";
                }

                var key = $"{runId}-t{t}-{n++}";
                if (operation != "lookup")
                {
                    lock (touched)
                    {
                        touched.Add(member.MemberId);
                    }
                }

                switch (operation)
                {
                    case "lookup":
                        var url = random.Next(2) == 0 ? $"/api/members?cardNumber={member.CardNumber}" : $"/api/members/{member.MemberId}";
                        await SendAsync(http, recorder, "lookup", HttpMethod.Get, url, null, terminal.Key, null);
                        break;
                    case "sale":
                        var saleId = $"{runId}-{terminal.StoreId}-{t}-{n}";
                        var lines = Enumerable.Range(0, random.Next(1, 5))
                            .Select(i => new { sku = $"SKU-{random.Next(500)}", category = i == 0 ? "grocery" : "dairy", quantity = random.Next(1, 3), unitPrice = random.Next(100, 3_000) })
                            .ToArray();
                        var total = lines.Sum(l => (long)l.quantity * l.unitPrice);
                        var sale = new { saleId, storeId = terminal.StoreId, memberId = member.MemberId, lines, payWithStoredValue = random.Next(3) == 0 ? total / 2 : (long?)null };
                        if (await SendAsync(http, recorder, "sale", HttpMethod.Post, "/api/sales", sale, terminal.Key, key))
                        {
                            sales.Enqueue(saleId);
                        }

                        break;
                    case "topUp":
                        await SendAsync(http, recorder, "topUp", HttpMethod.Post, $"/api/members/{member.MemberId}/top-ups", new { amount = random.Next(1, 6) * 10_000, channel = "storeTerminal", storeId = terminal.StoreId }, terminal.Key, key);
                        break;
                    case "redemption":
                        await SendAsync(http, recorder, "redemption", HttpMethod.Post, $"/api/members/{member.MemberId}/redemptions", new { points = random.Next(10, 100), storeId = terminal.StoreId }, terminal.Key, key);
                        break;
                    default:
                        await SendAsync(http, recorder, "refund", HttpMethod.Post, $"/api/sales/{sales.Dequeue()}/refunds", new { refundId = "r1" }, terminal.Key, key);
                        break;
                }
            }
        }));
    }

    private static Task<bool> SendAsync(HttpClient http, Recorder recorder, string operation, HttpMethod method, string url, object? body, string apiKey, string? idempotencyKey) =>
        recorder.TimeAsync(operation, async () =>
        {
            using var request = new HttpRequestMessage(method, url);
            request.Headers.Add("X-Api-Key", apiKey);
            if (idempotencyKey is not null)
            {
                request.Headers.Add("Idempotency-Key", idempotencyKey);
            }

            if (body is not null)
            {
                request.Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
            }

            try
            {
                using var response = await http.SendAsync(request);
                if (response.IsSuccessStatusCode)
                {
                    await response.Content.LoadIntoBufferAsync();
                    return (true, (string?)null);
                }

                var code = response.Content.Headers.ContentType?.MediaType == "application/problem+json"
                    ? (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString()
                    : null;
                return (false, $"{(int)response.StatusCode} {code}");
            }
            catch (HttpRequestException ex)
            {
                return (false, "transport " + ex.HttpRequestError);
            }
            catch (TaskCanceledException)
            {
                return (false, "timeout");
            }
        });
}
