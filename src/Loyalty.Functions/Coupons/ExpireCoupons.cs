using Azure.Data.Tables;
using System.Globalization;
using Azure;
using Loyalty.Domain.Coupons;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Notifications;
using Loyalty.Storage.Coupons;
using Loyalty.Storage.Schema;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Coupons;

/// <summary>What one run of the coupon schedule did.</summary>
internal sealed record CouponScheduleRun(int Expired, int Reminded, int Dropped);

/// <summary>
/// The coupon schedule: expires issued coupons whose validity has ended, and sends the expiry reminder of templates
/// that ask for one. It reads only the due days of the schedule (never every member), changes a coupon only with
/// If-Match on its row (so a sale using the coupon at the same moment wins or loses cleanly), and removes each entry
/// once handled, so a run can stop anywhere and the next one continues.
/// </summary>
internal sealed class CouponSchedule(CouponStore coupons, NotificationOutbox outbox, TableStore store, IOptions<LoyaltyOptions> options)
{
    private const int Parallelism = 16;

    /// <summary>Handles everything due at <paramref name="now"/>.</summary>
    public async Task<CouponScheduleRun> RunAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        int expired = 0, reminded = 0, dropped = 0;
        var due = await ListAsync("expiry", now, cancellationToken);
        await Parallel.ForEachAsync(due.Where(e => e.ValidUntil <= now), new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken }, async (entry, ct) =>
        {
            var held = await coupons.GetAsync(entry.MemberId, entry.Code, ct);
            if (held is { Coupon.State: CouponState.Issued } && held.Coupon.ValidUntil <= now)
            {
                try
                {
                    await store.Members.UpdateEntityAsync(CouponStore.ToRow(held.Coupon with { State = CouponState.Expired }), held.ETag, TableUpdateMode.Replace, cancellationToken: ct);
                    Interlocked.Increment(ref expired);
                }
                catch (RequestFailedException ex) when (ex.Status == 412)
                {
                    return; // Used or restored just now: look again on the next run.
                }
            }
            else
            {
                Interlocked.Increment(ref dropped);
            }

            await coupons.CompleteAsync(entry, ct);
        });

        var reminders = await ListAsync("remind", now, cancellationToken);
        await Parallel.ForEachAsync(reminders, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken }, async (entry, ct) =>
        {
            var held = await coupons.GetAsync(entry.MemberId, entry.Code, ct);
            if (held is { Coupon.State: CouponState.Issued } && held.Coupon.ValidUntil > now)
            {
                var coupon = held.Coupon;
                var lastDay = TimeZoneInfo.ConvertTime(coupon.ValidUntil.AddTicks(-1), options.Value.ChainTimeZone).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
                var text = $"您的优惠券「{coupon.Name}」将于 {lastDay} 到期，券码 {coupon.Code}，请尽快使用。";
                if (await outbox.QueueAsync(entry.MemberId, "coupon-expiring-" + coupon.Code, "coupon_expiring", text, marketing: true, ct) == OutboxResult.Queued)
                {
                    Interlocked.Increment(ref reminded);
                }
            }

            await coupons.CompleteAsync(entry, ct);
        });
        return new CouponScheduleRun(expired, reminded, dropped);
    }

    private async Task<List<ScheduledCoupon>> ListAsync(string kind, DateTimeOffset now, CancellationToken ct)
    {
        var list = new List<ScheduledCoupon>();
        await foreach (var entry in coupons.DueAsync(kind, now, ct))
        {
            list.Add(entry);
        }

        return list;
    }
}

/// <summary>Timer-triggered, hourly: runs the coupon schedule (expiry and reminders).</summary>
internal sealed class ExpireCoupons(CouponSchedule schedule, TimeProvider time, ILogger<ExpireCoupons> logger) : ITimerFunction
{
    public const string Schedule = "0 10 * * * *";

    public async Task RunAsync(TimerInvocation invocation, CancellationToken cancellationToken)
    {
        var run = await schedule.RunAsync(time.GetUtcNow(), cancellationToken);
        logger.LogInformation("Coupon schedule: {Expired} expired, {Reminded} reminders queued, {Dropped} stale entries dropped", run.Expired, run.Reminded, run.Dropped);
    }
}
