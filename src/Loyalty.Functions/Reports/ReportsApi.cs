using System.Globalization;
using System.Text.Json;
using Loyalty.Domain.Reports;
using Microsoft.DurableTask.Client;
using Loyalty.Functions.Campaigns;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Http;
using Loyalty.Functions.Programme;
using Loyalty.Storage.Org;
using Loyalty.Storage.Reports;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Reports;

/// <summary>One partition's counters (a store, head office or chain level).</summary>
internal sealed record PartitionCounters(string Id, ReportCounters Counters);

/// <summary>
/// <c>GET /api/reports/...</c>: liabilities, stored value, consumption, tier distribution (programme health) and
/// benefit usage, for a scope inside the caller's. Flow figures come from the per-store day aggregates kept by the
/// report projector; member-state figures from the latest daily health snapshot.
/// </summary>
internal static class ReportsApi
{
    private const int Parallelism = 16;

    /// <summary><c>GET /api/reports/liability</c>: outstanding points and stored value (principal, bonus) by store, region and in total.</summary>
    public static async Task<IResult> Liability(HttpContext http, OrgStore org, ReportStore reports, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(http);
        var (scope, problem) = ReportScope.Resolve(http, await org.GetRequiredAsync(http.RequestAborted));
        if (scope is null)
        {
            return problem!;
        }

        var totals = await ForEachAsync(scope.Partitions, (id, ct) => reports.TotalsAsync(id, ct), http.RequestAborted);
        var stores = totals.Where(t => scope.Stores.Any(s => s.Id == t.Id) || !t.Value.IsEmpty)
            .Select(t => new { storeId = t.Id, name = scope.NameOf(t.Id), regionId = scope.RegionOf(t.Id), liability = LiabilityOf(t.Value) })
            .ToList();
        var regions = stores.Where(s => s.regionId is not null).GroupBy(s => s.regionId!)
            .Select(g => new { regionId = g.Key, name = scope.NameOf(g.Key), liability = Sum(g.Select(s => s.liability)) })
            .OrderBy(r => r.regionId, StringComparer.Ordinal).ToList();
        return TypedResults.Ok(new
        {
            scopeId = scope.Node.Id,
            scopeKind = Ledger.Naming.Camel(scope.Node.Kind),
            asOf = time.GetUtcNow(),
            total = Sum(stores.Select(s => s.liability)),
            byRegion = regions,
            byStore = stores,
        });
    }

    /// <summary><c>GET /api/reports/stored-value</c>: top-ups and stored-value spend by channel and store for a period.</summary>
    public static async Task<IResult> StoredValue(HttpContext http, OrgStore org, ReportStore reports, TimeProvider time, IOptions<LoyaltyOptions> options)
    {
        var (scope, from, to, problem) = await PeriodScopeAsync(http, org, time, options);
        if (scope is null)
        {
            return problem!;
        }

        var counters = await PeriodAsync(scope, reports, from, to, http.RequestAborted);
        var all = Sum(counters.Select(c => c.Counters));
        return TypedResults.Ok(new
        {
            scopeId = scope.Node.Id,
            from,
            to,
            total = StoredValueOf(all),
            byStore = counters.Select(c => new { storeId = c.Id, name = scope.NameOf(c.Id), regionId = scope.RegionOf(c.Id), figures = StoredValueOf(c.Counters) }),
        });
    }

    /// <summary>
    /// <c>GET /api/reports/consumption</c>: sales, discounts, refunds, stored value and points per store, region or
    /// day of a period (<c>?groupBy=store|region|day</c>); <c>?format=csv|xlsx</c> exports the rows.
    /// </summary>
    public static async Task<IResult> Consumption(HttpContext http, OrgStore org, ReportStore reports, TimeProvider time, IOptions<LoyaltyOptions> options)
    {
        ArgumentNullException.ThrowIfNull(http);
        var groupBy = http.Request.Query["groupBy"].ToString() is { Length: > 0 } g ? g : "store";
        var format = http.Request.Query["format"].ToString() is { Length: > 0 } f ? f : "json";
        if (groupBy is not ("store" or "region" or "day"))
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "group_by_invalid", "groupBy is store, region or day.", "groupBy");
        }

        if (format is not ("json" or "csv" or "xlsx"))
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "format_invalid", "format is json, csv or xlsx.", "format");
        }

        var (scope, from, to, problem) = await PeriodScopeAsync(http, org, time, options);
        if (scope is null)
        {
            return problem!;
        }

        var days = await ForEachAsync(scope.Partitions, (id, ct) => reports.DaysAsync(id, from, to, ct), http.RequestAborted);
        var groups = new SortedDictionary<string, ReportCounters>(StringComparer.Ordinal);
        foreach (var (id, byDay) in days)
        {
            foreach (var (day, counters) in byDay)
            {
                var key = groupBy switch
                {
                    "day" => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    "region" => scope.RegionOf(id) ?? scope.Node.Id,
                    _ => id,
                };
                if (!groups.TryGetValue(key, out var sum))
                {
                    groups[key] = sum = new ReportCounters();
                }

                sum.Add(counters.Values);
            }
        }

        var rows = groups.Select(kv => ConsumptionRow.From(kv.Key, groupBy == "day" ? kv.Key : scope.NameOf(kv.Key), kv.Value)).ToList();
        var total = ConsumptionRow.From("total", "Total", Sum(groups.Values));
        var file = $"consumption-{scope.Node.Id}-{from:yyyyMMdd}-{to:yyyyMMdd}";
        return format switch
        {
            "csv" => Results.File(SpreadsheetExport.Csv(ConsumptionRow.Headers, [.. rows.Append(total).Select(r => r.Cells())]), "text/csv; charset=utf-8", file + ".csv"),
            "xlsx" => Results.File(SpreadsheetExport.Xlsx("Consumption", ConsumptionRow.Headers, [.. rows.Append(total).Select(r => r.Cells())]), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", file + ".xlsx"),
            _ => TypedResults.Ok(new { scopeId = scope.Node.Id, from, to, groupBy, rows, total }),
        };
    }

    /// <summary>
    /// <c>GET /api/reports/tier-distribution</c>: from the latest health snapshot, members by tier and the share that
    /// reached the first tier above entry; the 6- and 12-month spend distributions with medians and suggested tier
    /// thresholds; dormant ratio; repurchase rate.
    /// </summary>
    public static async Task<IResult> TierDistribution(HttpContext http, OrgStore org, ReportStore reports, ProgrammeConfig programme)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(programme);
        var ct = http.RequestAborted;
        var (scope, problem) = ReportScope.Resolve(http, await org.GetRequiredAsync(ct));
        if (scope is null)
        {
            return problem!;
        }

        if (await reports.LatestAsync(ct) is not { } latest)
        {
            return SnapshotMissing();
        }

        var health = await HealthAsync(scope, reports, latest.Day, ct);
        var rules = await programme.GetRulesAsync(ct);
        var tiers = rules.Tiers;
        var reached = tiers.Count > 1 ? tiers.Skip(1).Sum(t => health.Tiers.GetValueOrDefault(t.Code)) : 0;
        return TypedResults.Ok(new
        {
            scopeId = scope.Node.Id,
            asOf = latest.At,
            snapshotDay = latest.Day,
            members = health.Members,
            tiers = tiers.Select(t => new { tier = t.Code, name = t.Name, threshold = t.Threshold, members = health.Tiers.GetValueOrDefault(t.Code), share = Rate(health.Tiers.GetValueOrDefault(t.Code), health.Members) })
                .Concat(health.Tiers.Where(t => tiers.All(r => r.Code != t.Key)).Select(t => new { tier = t.Key, name = t.Key, threshold = 0L, members = t.Value, share = Rate(t.Value, health.Members) })),
            reachedFirstTier = new { tier = tiers.Count > 1 ? tiers[1].Code : null, members = reached, share = Rate(reached, health.Members) },
            spend = new { months6 = SpendView(health.Spend6, health.Members), months12 = SpendView(health.Spend12, health.Members) },
            suggestedThresholds = ProgrammeHealth.SuggestThresholds(health.Spend12, tiers.Count - 1).Select((bound, i) => new { tier = tiers[i + 1].Code, current = tiers[i + 1].Threshold, suggested = bound }),
            dormant = new { days = HealthSnapshot.DormantDays, members = health.Dormant, ratio = Rate(health.Dormant, health.Members) },
            repurchase = new { buyers12Months = health.Buyers12, repeatBuyers12Months = health.Repeat12, rate = Rate(health.Repeat12, health.Buyers12) },
        });
    }

    /// <summary>
    /// <c>GET /api/reports/benefit-usage</c>: per benefit, granted vs used in a period: coupons by source (birthday,
    /// upgrade, sign-up, anniversary, reactivation...), member-day points (member-days offered vs used), and the
    /// results of reactivation campaigns (offered vs reactivated).
    /// </summary>
    public static async Task<IResult> BenefitUsage(HttpContext http, OrgStore org, ReportStore reports, ProgrammeConfig programme, DurableTaskClient client, TimeProvider time, IOptions<LoyaltyOptions> options)
    {
        ArgumentNullException.ThrowIfNull(programme);
        ArgumentNullException.ThrowIfNull(client);
        var (scope, from, to, problem) = await PeriodScopeAsync(http, org, time, options);
        if (scope is null)
        {
            return problem!;
        }

        var ct = http.RequestAborted;
        var all = Sum((await PeriodAsync(scope, reports, from, to, ct)).Select(c => c.Counters));
        var benefits = all.Values.Keys
            .Where(k => k.StartsWith("benefit.", StringComparison.Ordinal))
            .Select(k => k.Split('.')[1]).Where(b => b != "memberDay").Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select(b => new BenefitRow(b, "coupon", all.Values.GetValueOrDefault($"benefit.{b}.granted"), all.Values.GetValueOrDefault($"benefit.{b}.used")))
            .ToList();

        // Member days: every member is offered each member day; a member buying on one uses it (once per day).
        var rules = await programme.GetRulesAsync(ct);
        var memberDays = Enumerable.Range(0, to.DayNumber - from.DayNumber + 1).Select(from.AddDays)
            .Count(d => rules.MemberDays.Any(r => r.AppliesAt(d.ToDateTime(new TimeOnly(12, 0)))));
        var latest = await reports.LatestAsync(ct);
        var members = latest is { } l ? (await HealthAsync(scope, reports, l.Day, ct)).Members : 0;
        benefits.Add(new BenefitRow("memberDay", "memberDays", memberDays * members, all.Values.GetValueOrDefault("benefit.memberDay.used")));

        var campaigns = await CampaignsAsync(scope, client, from, to, ct);
        benefits.Add(new BenefitRow("reactivationOffer", "offers", campaigns.Sum(c => (long)c.Offered), campaigns.Sum(c => (long)c.Reactivated)));
        return TypedResults.Ok(new { scopeId = scope.Node.Id, from, to, benefits, campaigns });
    }

    private static IResult SnapshotMissing() =>
        Problems.Create(StatusCodes.Status409Conflict, "snapshot_missing", "No programme-health snapshot has been taken yet; it runs daily, or POST /api/ops/reports/snapshot.");

    private static async Task<ProgrammeHealth> HealthAsync(ReportScope scope, ReportStore reports, DateOnly day, CancellationToken ct)
    {
        var health = new ProgrammeHealth();
        foreach (var (_, json) in await ForEachAsync(scope.Stores.Select(s => s.Id), (id, token) => reports.HealthAsync(id, day, token), ct))
        {
            if (json is not null)
            {
                health.Merge(ProgrammeHealth.Parse(json));
            }
        }

        return health;
    }

    /// <summary>Completed reactivation campaigns that ended in the period and targeted (part of) the scope, or the whole chain.</summary>
    private static async Task<List<CampaignRow>> CampaignsAsync(ReportScope scope, DurableTaskClient client, DateOnly from, DateOnly to, CancellationToken ct)
    {
        var rows = new List<CampaignRow>();
        var completed = new OrchestrationQuery { Statuses = [OrchestrationRuntimeStatus.Completed], FetchInputsAndOutputs = true };
        await foreach (var state in client.GetAllInstancesAsync(completed).WithCancellation(ct))
        {
            var ended = DateOnly.FromDateTime(state.LastUpdatedAt.UtcDateTime);
            if (state.Name != Reactivation.Name || state.SerializedOutput is null || state.SerializedInput is null || ended < from || ended > to.AddDays(1))
            {
                continue;
            }

            var input = JsonSerializer.Deserialize<ReactivationInput>(state.SerializedInput, JsonDefaults.Options);
            var result = JsonSerializer.Deserialize<ReactivationResult>(state.SerializedOutput, JsonDefaults.Options);
            if (input is null || result is null || input.DryRun || result.Status == "refused")
            {
                continue;
            }

            var named = (input.Segment?.Regions ?? []).Concat(input.Segment?.Stores ?? []).ToList();
            var chainWide = named.Count == 0;
            if (!chainWide && !named.Any(n => scope.Tree.Contains(scope.Node.Id, n) || scope.Tree.Contains(n, scope.Node.Id)))
            {
                continue;
            }

            rows.Add(new CampaignRow(result.CampaignId, state.InstanceId, ended, chainWide, result.Targeted, result.Offered, result.Reactivated, result.Rate, result.Cost, result.BudgetReached));
        }

        return [.. rows.OrderBy(r => r.EndedOn).ThenBy(r => r.CampaignId, StringComparer.Ordinal)];
    }

    private static async Task<(ReportScope? Scope, DateOnly From, DateOnly To, IResult? Problem)> PeriodScopeAsync(HttpContext http, OrgStore org, TimeProvider time, IOptions<LoyaltyOptions> options)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(options);
        var (scope, problem) = ReportScope.Resolve(http, await org.GetRequiredAsync(http.RequestAborted));
        if (scope is null)
        {
            return (null, default, default, problem);
        }

        var today = options.Value.LocalDay(time.GetUtcNow());
        var (from, to, periodProblem) = ReportScope.Period(http, today);
        return periodProblem is null ? (scope, from, to, null) : (null, default, default, periodProblem);
    }

    /// <summary>Each partition's counters over the period, partitions without any left out.</summary>
    private static async Task<List<PartitionCounters>> PeriodAsync(ReportScope scope, ReportStore reports, DateOnly from, DateOnly to, CancellationToken ct) =>
        [.. (await ForEachAsync(scope.Partitions, (id, token) => reports.DaysAsync(id, from, to, token), ct))
            .Select(d => new PartitionCounters(d.Id, Sum(d.Value.Values)))
            .Where(p => !p.Counters.IsEmpty || p.Id != ReportCounters.ChainLevel)];

    private static async Task<List<(string Id, T Value)>> ForEachAsync<T>(IEnumerable<string> ids, Func<string, CancellationToken, Task<T>> read, CancellationToken ct)
    {
        var list = ids.ToList();
        var results = new (string, T)[list.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, list.Count), new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = ct }, async (i, token) =>
            results[i] = (list[i], await read(list[i], token)));
        return [.. results];
    }

    private static ReportCounters Sum(IEnumerable<ReportCounters> all)
    {
        var sum = new ReportCounters();
        foreach (var c in all)
        {
            sum.Add(c.Values);
        }

        return sum;
    }

    private static LiabilityView LiabilityOf(ReportCounters c) =>
        new(V(c, "liab.pts"), V(c, "liab.pri"), V(c, "liab.bon"), V(c, "liab.pri") + V(c, "liab.bon"));

    private static LiabilityView Sum(IEnumerable<LiabilityView> all)
    {
        var list = all.ToList();
        return new(list.Sum(l => l.Points), list.Sum(l => l.Principal), list.Sum(l => l.Bonus), list.Sum(l => l.StoredValue));
    }

    private static object StoredValueOf(ReportCounters c)
    {
        var topUpChannels = c.Values.Keys.Select(k => k.Split('.')).Where(p => p.Length == 3 && p[0] == "topUp").Select(p => p[1]).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        var spendChannels = c.Values.Keys.Select(k => k.Split('.')).Where(p => p.Length == 3 && p[0] == "svSpend").Select(p => p[1]).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        return new
        {
            topUps = new
            {
                count = V(c, "topUp.n"),
                principal = V(c, "topUp.pri"),
                bonus = V(c, "topUp.bon"),
                byChannel = topUpChannels.Select(ch => new { channel = ch, count = V(c, $"topUp.{ch}.n"), principal = V(c, $"topUp.{ch}.pri"), bonus = V(c, $"topUp.{ch}.bon") }),
            },
            spend = new
            {
                principal = spendChannels.Sum(ch => V(c, $"svSpend.{ch}.pri")),
                bonus = spendChannels.Sum(ch => V(c, $"svSpend.{ch}.bon")),
                byChannel = spendChannels.Select(ch => new { channel = ch, principal = V(c, $"svSpend.{ch}.pri"), bonus = V(c, $"svSpend.{ch}.bon") }),
            },
            refundedToStoredValue = new { principal = V(c, "refund.svPri"), bonus = V(c, "refund.svBon") },
            paidBack = new { principal = -V(c, "storedValueRefund.pri") },
            membershipsPaid = new { principal = -V(c, "membership.pri"), bonus = -V(c, "membership.bon") },
        };
    }

    private static object SpendView(SortedDictionary<long, long> histogram, long members)
    {
        var buckets = histogram.Select(h => new { from = h.Key, to = h.Key + Step(h.Key), members = h.Value }).ToList();
        var buyers = histogram.Where(h => h.Key > 0).Sum(h => h.Value);
        return new
        {
            members,
            withSpend = buyers,
            median = ProgrammeHealth.Quantile(histogram, 0.5, buyersOnly: false),
            medianOfBuyers = ProgrammeHealth.Quantile(histogram, 0.5, buyersOnly: true),
            buckets,
        };
    }

    private static long Step(long bucket) => bucket < 100_000 ? 1_000 : bucket < 1_000_000 ? 10_000 : 100_000;

    private static long V(ReportCounters c, string name) => c.Values.GetValueOrDefault(name);

    internal static double Rate(long part, long whole) => whole == 0 ? 0 : Math.Round((double)part / whole, 4);
}

/// <summary>Outstanding points and stored value.</summary>
internal sealed record LiabilityView(long Points, long Principal, long Bonus, long StoredValue);

/// <summary>One benefit's usage: granted and used in the period, and the rate.</summary>
internal sealed record BenefitRow(string Benefit, string Unit, long Granted, long Used)
{
    public double Rate => ReportsApi.Rate(Used, Granted);
}

/// <summary>A reactivation campaign's result.</summary>
internal sealed record CampaignRow(string CampaignId, string InstanceId, DateOnly EndedOn, bool ChainWide, int Targeted, int Offered, int Reactivated, double Rate, long Cost, bool BudgetReached);
