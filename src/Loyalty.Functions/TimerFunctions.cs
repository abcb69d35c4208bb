using Loyalty.Functions.Hosting;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Loyalty.Functions;

/// <summary>
/// The scheduled jobs: NCRONTAB schedules (seconds first), in UTC unless WEBSITE_TIME_ZONE says otherwise. Each job
/// is safe to run twice and to run late. A <c>[DurableClient]</c> parameter declares the binding; DurableClientMiddleware
/// hands its client to the services that start orchestrations.
/// </summary>
internal sealed class TimerFunctions(IServiceProvider services)
{
    [Function("PurgeIdempotencyRecords")]
    public Task PurgeIdempotencyRecords([TimerTrigger(Maintenance.PurgeIdempotencyRecords.Schedule)] TimerInfo timer, FunctionContext context) =>
        Run<Maintenance.PurgeIdempotencyRecords>(timer, context);

    [Function("ExpireCoupons")]
    public Task ExpireCoupons([TimerTrigger(Coupons.ExpireCoupons.Schedule)] TimerInfo timer, FunctionContext context) =>
        Run<Coupons.ExpireCoupons>(timer, context);

    [Function("ExpirePoints")]
    public Task ExpirePoints([TimerTrigger(Ledger.ExpirePoints.Schedule)] TimerInfo timer, FunctionContext context) =>
        Run<Ledger.ExpirePoints>(timer, context);

    [Function("EvaluateTiers")]
    public Task EvaluateTiers([TimerTrigger(Programme.EvaluateTiers.Schedule)] TimerInfo timer, FunctionContext context) =>
        Run<Programme.EvaluateTiers>(timer, context);

    [Function("RecomputeTags")]
    public Task RecomputeTags([TimerTrigger(Tags.RecomputeTags.Schedule)] TimerInfo timer, FunctionContext context) =>
        Run<Tags.RecomputeTags>(timer, context);

    [Function("StartBirthdayGifts")]
    public Task StartBirthdayGifts([TimerTrigger(Campaigns.StartBirthdayGifts.Schedule)] TimerInfo timer, [DurableClient] DurableTaskClient durable, FunctionContext context) =>
        Run<Campaigns.StartBirthdayGifts>(timer, context);

    [Function("HealthSnapshot")]
    public Task HealthSnapshot([TimerTrigger(Reports.TakeHealthSnapshot.Schedule)] TimerInfo timer, FunctionContext context) =>
        Run<Reports.TakeHealthSnapshot>(timer, context);

    [Function("PurgeReportMarkers")]
    public Task PurgeReportMarkers([TimerTrigger(Reports.PurgeReportMarkers.Schedule)] TimerInfo timer, FunctionContext context) =>
        Run<Reports.PurgeReportMarkers>(timer, context);

    [Function("SweepOutbox")]
    public Task SweepOutbox([TimerTrigger(Events.SweepOutbox.Schedule)] TimerInfo timer, FunctionContext context) =>
        Run<Events.SweepOutbox>(timer, context);

    [Function("PurgeWebhookDeliveries")]
    public Task PurgeWebhookDeliveries([TimerTrigger(Events.PurgeWebhookDeliveries.Schedule)] TimerInfo timer, FunctionContext context) =>
        Run<Events.PurgeWebhookDeliveries>(timer, context);

    private Task Run<T>(TimerInfo timer, FunctionContext context)
        where T : ITimerFunction =>
        services.GetRequiredService<T>().RunAsync(new TimerInvocation(DateTimeOffset.UtcNow, timer.IsPastDue), context.CancellationToken);
}
