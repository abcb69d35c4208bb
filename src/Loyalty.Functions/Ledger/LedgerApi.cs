using System.Globalization;
using Loyalty.Domain.Ledger;
using Loyalty.Functions.Http;
using Loyalty.Storage.Ledger;
using Loyalty.Storage.Members;

namespace Loyalty.Functions.Ledger;

/// <summary>A ledger entry as the API shows it.</summary>
internal sealed record LedgerEntryView(
    long Seq,
    string Type,
    string Reason,
    long Points,
    long Principal,
    long Bonus,
    BalancesDto BalancesAfter,
    string StoreId,
    string Actor,
    DateTimeOffset At,
    string? Reference,
    string? RuleVersion,
    string? Note)
{
    public static LedgerEntryView From(LedgerLine line)
    {
        var e = line.Entry;
        return new(e.Seq, Naming.Camel(e.Type), e.Reason, e.Points, e.Principal, e.Bonus, BalancesDto.From(line.After), e.StoreId, e.Actor, e.At, e.Reference, e.RuleVersion, e.Note);
    }
}

/// <summary>
/// <c>GET /api/members/{memberId}/ledger</c>: newest first; <c>?type=sale|topUp|refund|redemption|adjustment</c>,
/// <c>?from=</c> / <c>?to=</c> (ISO dates or instants; a date is midnight in the chain's time zone), <c>?pageSize=</c>
/// (1-200, default 50) and <c>?continuationToken=</c>; <c>?format=csv|xlsx</c> exports every matching entry.
/// </summary>
internal static class LedgerApi
{
    public const int MaxExportRows = 100_000;

    public static async Task<IResult> Handle(HttpContext http, string memberId, MemberStore members, LedgerQuery ledger, Microsoft.Extensions.Options.IOptions<Hosting.LoyaltyOptions> options)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(options);
        var ct = http.RequestAborted;
        var query = http.Request.Query;
        if (MemberOperation.CheckMemberId(memberId) is { } missing)
        {
            return missing;
        }

        var (filter, problem) = ParseFilter(query, options.Value.ChainTimeZone);
        if (problem is not null)
        {
            return problem;
        }

        var pageSize = 50;
        if (query.ContainsKey("pageSize") && (!int.TryParse(query["pageSize"], NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > 200))
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "page_size_invalid", "pageSize is 1-200.", "pageSize");
        }

        if (!await members.ExistsAsync(memberId, ct))
        {
            return Problems.Create(StatusCodes.Status404NotFound, "member_not_found", "No such member.");
        }

        var format = query["format"].ToString();
        switch (format)
        {
            case "":
            case "json":
                try
                {
                    var page = await ledger.PageAsync(memberId, filter!, pageSize, query["continuationToken"].ToString(), ct);
                    return TypedResults.Ok(new { items = page.Items.Select(LedgerEntryView.From), continuationToken = page.ContinuationToken });
                }
                catch (FormatException)
                {
                    return Problems.Create(StatusCodes.Status400BadRequest, "continuation_token_invalid", "The continuation token is not one this API gave.", "continuationToken");
                }

            case "csv":
            case "xlsx":
                var rows = new List<LedgerEntryView>();
                await foreach (var line in ledger.StreamAsync(memberId, filter!, ct))
                {
                    if (rows.Count == MaxExportRows)
                    {
                        break;
                    }

                    rows.Add(LedgerEntryView.From(line));
                }

                var name = $"ledger-{memberId}.{format}";
                return format == "csv"
                    ? Results.File(LedgerExport.Csv(rows), "text/csv; charset=utf-8", name)
                    : Results.File(LedgerExport.Xlsx(rows), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", name);
            default:
                return Problems.Create(StatusCodes.Status400BadRequest, "format_invalid", "format is json, csv or xlsx.", "format");
        }
    }

    private static (LedgerFilter? Filter, IResult? Problem) ParseFilter(IQueryCollection query, TimeZoneInfo zone)
    {
        LedgerEntryType? type = null;
        if (query.TryGetValue("type", out var t))
        {
            if (!Enum.TryParse<LedgerEntryType>(t.ToString(), ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed) || char.IsAsciiDigit(t.ToString().FirstOrDefault()))
            {
                return (null, Problems.Create(StatusCodes.Status400BadRequest, "type_invalid", "type is topUp, sale, refund, redemption or adjustment.", "type"));
            }

            type = parsed;
        }

        DateTimeOffset? from = null, to = null;
        foreach (var (name, assign) in new (string, Action<DateTimeOffset>)[] { ("from", v => from = v), ("to", v => to = v) })
        {
            if (!query.TryGetValue(name, out var value))
            {
                continue;
            }

            var text = value.ToString();
            if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
            {
                var local = day.ToDateTime(TimeOnly.MinValue);
                assign(new DateTimeOffset(local, zone.GetUtcOffset(local)));
            }
            else if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var instant))
            {
                assign(instant);
            }
            else
            {
                return (null, Problems.Create(StatusCodes.Status400BadRequest, "date_invalid", $"{name} is a date (yyyy-MM-dd) or an ISO 8601 instant.", name));
            }
        }

        return (new LedgerFilter(type, from, to), null);
    }
}
