using Azure.Data.Tables;
using System.Globalization;
using System.Text.Json;
using Loyalty.Domain.Ledger;
using Loyalty.Storage.Tables;

namespace Loyalty.Storage.Reports;

/// <summary>
/// Counters that one member operation adds to its store's day, e.g. <c>sale.n</c> 1, <c>sale.net</c> 12800,
/// <c>liab.pri</c> -5000. Counter names are dotted lowercase words; values are minor units or counts.
/// </summary>
public sealed class ReportCounters
{
    private readonly SortedDictionary<string, long> _values = new(StringComparer.Ordinal);

    /// <summary>The counters, by name.</summary>
    public IReadOnlyDictionary<string, long> Values => _values;

    /// <summary>True when nothing was counted.</summary>
    public bool IsEmpty => _values.Count == 0;

    /// <summary>Adds <paramref name="amount"/> to <paramref name="name"/> (zero adds nothing).</summary>
    public ReportCounters Add(string name, long amount)
    {
        if (amount != 0)
        {
            _values[name] = checked(_values.GetValueOrDefault(name) + amount);
        }

        return this;
    }

    /// <summary>Adds every counter of <paramref name="other"/>.</summary>
    public ReportCounters Add(IReadOnlyDictionary<string, long> other)
    {
        ArgumentNullException.ThrowIfNull(other);
        foreach (var (name, value) in other)
        {
            Add(name, value);
        }

        return this;
    }

    /// <summary>JSON for storage.</summary>
    public string ToJson() => JsonSerializer.Serialize(_values);

    /// <summary>Counters read from storage (null or empty: none).</summary>
    public static ReportCounters Parse(string? json)
    {
        var counters = new ReportCounters();
        if (!string.IsNullOrEmpty(json))
        {
            counters.Add(JsonSerializer.Deserialize<Dictionary<string, long>>(json) ?? []);
        }

        return counters;
    }

    /// <summary>
    /// The counters every ledger entry contributes, whatever the operation: the liability movements (<c>liab.*</c>),
    /// and per entry type a count and its deltas; top-ups by channel and gifts by source (from the reason code).
    /// </summary>
    public ReportCounters AddEntry(LedgerEntryType type, string reason, LedgerChange change)
    {
        ArgumentNullException.ThrowIfNull(reason);
        Add("pts.in", change.PointsAdded).Add("pts.out", change.PointsTaken);
        Add("liab.pts", change.Points).Add("liab.pri", change.Principal).Add("liab.bon", change.Bonus);
        var kind = Kind(type);
        Add(kind + ".n", 1).Add(kind + ".pts", change.Points).Add(kind + ".pri", change.Principal).Add(kind + ".bon", change.Bonus);
        var dot = reason.IndexOf('.', StringComparison.Ordinal);
        if (type is LedgerEntryType.TopUp or LedgerEntryType.Gift && dot > 0 && dot < reason.Length - 1)
        {
            var sub = kind + "." + reason[(dot + 1)..];
            Add(sub + ".n", 1).Add(sub + ".pts", change.Points).Add(sub + ".pri", change.Principal).Add(sub + ".bon", change.Bonus);
        }

        return this;
    }

    /// <summary>Where counts go that belong to no store (a coupon issued by head office with no store named).</summary>
    public const string ChainLevel = "_chain";

    /// <summary>
    /// Benefit counters from the coupon rows a transaction writes: a coupon issued counts as granted
    /// (<c>benefit.{source}.granted</c>, and its face value), one redeemed as used, one given back by a refund as no
    /// longer used. The source is the coupon's source up to its first ':' (<c>birthday</c>, <c>upgrade</c>...).
    /// </summary>
    public static void AddCoupons(ReportCounters counters, IEnumerable<TableTransactionAction> actions)
    {
        ArgumentNullException.ThrowIfNull(counters);
        ArgumentNullException.ThrowIfNull(actions);
        foreach (var action in actions)
        {
            if (action.Entity is not TableEntity row)
            {
                continue;
            }

            if (!row.RowKey.StartsWith(Coupons.CouponStore.RowPrefix, StringComparison.Ordinal) || row.GetString("Source") is not { Length: > 0 } source)
            {
                continue;
            }

            var benefit = "benefit." + source.Split(':')[0];
            var state = row.GetString("State");
            switch (action.ActionType)
            {
                case TableTransactionActionType.Add when state == "Issued":
                    counters.Add(benefit + ".granted", 1).Add(benefit + ".grantedValue", row.GetInt64("FaceValue") ?? 0);
                    break;
                case TableTransactionActionType.UpdateReplace when state == "Redeemed":
                    counters.Add(benefit + ".used", 1);
                    break;
                case TableTransactionActionType.UpdateReplace when state == "Issued":
                    counters.Add(benefit + ".used", -1);
                    break;
            }
        }
    }

    /// <summary>The counter prefix of an entry type (<c>topUp</c>, <c>sale</c>, <c>storedValueRefund</c>...).</summary>
    public static string Kind(LedgerEntryType type)
    {
        var name = type.ToString();
        return char.ToLowerInvariant(name[0]) + name[1..];
    }
}

/// <summary>The report fact row a member transaction writes next to its other rows (<c>rpt-{opId}</c>).</summary>
public static class ReportFactRows
{
    /// <summary>Row key prefix of fact rows in a member partition.</summary>
    public const string Prefix = "rpt-";

    /// <summary>A fact row.</summary>
    public static TableEntity ToRow(string memberId, string opId, string storeId, DateOnly day, ReportCounters counters, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(counters);
        return new TableEntity(memberId, Prefix + opId)
        {
            ["StoreId"] = storeId,
            ["Day"] = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            ["Counters"] = counters.ToJson(),
            ["At"] = at,
        };
    }
}

/// <summary>The queue message pointing the projector at a fact row: member, row key, when it was first sent, tries.</summary>
public sealed record ReportFactMessage(string MemberId, string RowKey, DateTimeOffset FirstSent, int Tries = 0)
{
    /// <summary>The outbox row the same transaction wrote, if any: the projector hands it to the event dispatcher.</summary>
    public string? Events { get; init; }
}
