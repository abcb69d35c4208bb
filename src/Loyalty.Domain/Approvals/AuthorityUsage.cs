using System.Globalization;
using System.Text.Json;

namespace Loyalty.Domain.Approvals;

/// <summary>
/// How much of an authority-limited action (points adjustments, stored-value refunds) one member or one operator has
/// used on one day of the chain's calendar, so that a limit cannot be dodged by splitting a request. Amounts are
/// absolute (a -300 adjustment uses 300). A new day starts from zero.
/// </summary>
public sealed class AuthorityUsage
{
    private readonly Dictionary<string, long> _amounts;

    private AuthorityUsage(DateOnly day, Dictionary<string, long> amounts)
    {
        Day = day;
        _amounts = amounts;
    }

    /// <summary>The day the amounts are for.</summary>
    public DateOnly Day { get; }

    /// <summary>Reads stored usage; usage of another day (or none) is empty usage of <paramref name="today"/>.</summary>
    public static AuthorityUsage Parse(string? json, DateOnly today)
    {
        if (!string.IsNullOrEmpty(json))
        {
            try
            {
                var stored = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json) ?? [];
                if (stored.TryGetValue("day", out var day) && day.GetString() == Key(today))
                {
                    return new AuthorityUsage(today, stored.Where(p => p.Key != "day" && p.Value.ValueKind == JsonValueKind.Number).ToDictionary(p => p.Key, p => p.Value.GetInt64()));
                }
            }
            catch (JsonException)
            {
                // Unreadable usage counts as none; the row is rewritten with the next operation.
            }
        }

        return new AuthorityUsage(today, []);
    }

    /// <summary>What has been used of <paramref name="action"/> today.</summary>
    public long Of(ApprovalAction action) => _amounts.GetValueOrDefault(Name(action));

    /// <summary>The usage after <paramref name="amount"/> more of <paramref name="action"/>.</summary>
    public AuthorityUsage Add(ApprovalAction action, long amount)
    {
        var amounts = new Dictionary<string, long>(_amounts) { [Name(action)] = Of(action) + Math.Abs(amount) };
        return new AuthorityUsage(Day, amounts);
    }

    /// <summary>The usage as stored: <c>{"day":"2026-12-01","storedValueRefund":50000}</c>.</summary>
    public string ToJson()
    {
        var value = new Dictionary<string, object> { ["day"] = Key(Day) };
        foreach (var (name, amount) in _amounts)
        {
            value[name] = amount;
        }

        return JsonSerializer.Serialize(value);
    }

    private static string Name(ApprovalAction action) => JsonNamingPolicy.CamelCase.ConvertName(action.ToString());

    private static string Key(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}

/// <summary>
/// A request checked against the day's totals: who asks, and what that operator has already used today (the member's
/// own usage is read with the account).
/// </summary>
/// <param name="Role">The caller's role, whose limit applies.</param>
/// <param name="OperatorUsage">The caller's usage today.</param>
public sealed record DailyAuthority(Auth.Role Role, AuthorityUsage OperatorUsage)
{
    /// <summary>True when <paramref name="amount"/> more would take the member or the operator beyond what <paramref name="withinLimit"/> allows.</summary>
    public bool Exceeds(ApprovalAction action, long amount, AuthorityUsage memberUsage, Func<long, bool> withinLimit)
    {
        ArgumentNullException.ThrowIfNull(memberUsage);
        ArgumentNullException.ThrowIfNull(withinLimit);
        return !withinLimit(memberUsage.Of(action) + Math.Abs(amount)) || !withinLimit(OperatorUsage.Of(action) + Math.Abs(amount));
    }
}

/// <summary>Whether an authority limit applies to each request alone or to what a member and an operator do in a day.</summary>
public enum AuthorityWindow
{
    /// <summary>The day's total per member and per operator (the default): split requests add up.</summary>
    Day,

    /// <summary>Each request on its own.</summary>
    Request,
}
