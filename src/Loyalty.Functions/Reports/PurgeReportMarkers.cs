using Loyalty.Domain.Org;
using Loyalty.Functions.Hosting;
using Loyalty.Storage.Org;
using Loyalty.Storage.Reports;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Reports;

/// <summary>
/// Timer-triggered, daily: deletes the report markers of days more than <see cref="ReportProjector.MarkerDaysKept"/>
/// days back, store by store (every store of the org, and the chain level). Without it the Reports table would keep
/// one row per value-moving operation for ever. Day rows and running totals are kept.
/// </summary>
internal sealed class PurgeReportMarkers(ReportProjector projector, OrgStore org, TimeProvider time, IOptions<LoyaltyOptions> options, ILogger<PurgeReportMarkers> logger) : ITimerFunction
{
    public const string Schedule = "0 45 3 * * *";

    public async Task RunAsync(TimerInvocation invocation, CancellationToken cancellationToken)
    {
        var today = options.Value.LocalDay(time.GetUtcNow());
        var before = today.AddDays(-ReportProjector.MarkerDaysKept);
        var tree = await org.GetAsync(cancellationToken);
        var stores = (tree?.Tree.Nodes ?? []).Where(n => n.Kind == OrgNodeKind.Store).Select(n => n.Id).Append(ReportCounters.ChainLevel);
        var deleted = 0;
        foreach (var storeId in stores)
        {
            deleted += await projector.PurgeMarkersAsync(storeId, before, cancellationToken);
        }

        logger.LogInformation("Purged {Count} report markers of days before {Before}", deleted, before);
    }
}
