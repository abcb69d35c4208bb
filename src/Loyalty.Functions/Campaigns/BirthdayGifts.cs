using Azure.Data.Tables;
using System.Collections.Concurrent;
using System.Globalization;
using Loyalty.Domain.Programme;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Loyalty.Functions.Coupons;
using Loyalty.Functions.Durable;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Notifications;
using Loyalty.Functions.Programme;
using Loyalty.Storage.Ledger;
using Loyalty.Storage.Members;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Campaigns;

/// <summary>Input of <see cref="BirthdayGifts"/>: the chain-local day (<c>yyyy-MM-dd</c>).</summary>
internal sealed record BirthdayInput(string Date);

/// <summary>Input of one <see cref="GrantBirthdayGifts"/> call.</summary>
internal sealed record BirthdayBatch(string Date, IReadOnlyList<string> MemberIds, string InstanceId);

/// <summary>What a batch (and the day) did.</summary>
internal sealed record BirthdayTally(int Granted, int NoGift, int Notified, int Refused)
{
    public static BirthdayTally Empty { get; } = new(0, 0, 0, 0);

    public BirthdayTally Add(BirthdayTally o) => new(Granted + o.Granted, NoGift + o.NoGift, Notified + o.Notified, Refused + o.Refused);
}

/// <summary>The day's result: birthdays (gifts and messages), reminders of birthdays ahead, and enrolment anniversaries.</summary>
internal sealed record BirthdayResult(string Date, int Members, int Granted, int NoGift, int Notified, int Refused, int Reminded = 0, int Anniversaries = 0, int AnniversaryGifts = 0);

/// <summary>
/// Options of the birthday run (section <c>birthday-care</c>): a reminder <see cref="ReminderDaysAhead"/> days before a
/// birthday (生日提醒), and enrolment anniversaries (纪念日) with an optional gift pack.
/// </summary>
internal sealed record BirthdayCare(int? ReminderDaysAhead = null, bool Anniversaries = false, string? AnniversaryGiftPack = null)
{
    public const string Section = "birthday-care";

    public static BirthdayCare Default { get; } = new();
}

/// <summary>What the day's run does besides birthdays: the date whose birthdays to announce ahead, and anniversaries.</summary>
internal sealed record BirthdayCarePlan(string? ReminderDate, bool Anniversaries);

/// <summary>Birthdays: which month-days to celebrate on a date, and the work-list partition of a month-day.</summary>
internal static class BirthdayCalendar
{
    /// <summary>Partition of the <c>Schedules</c> table listing members born on a month-day.</summary>
    public static string Partition(DateOnly birthday) => "birthday-" + birthday.ToString("MM-dd", CultureInfo.InvariantCulture);

    /// <summary>Partition of the <c>Schedules</c> table listing members enrolled on a month-day (any year; the row keeps the year).</summary>
    public static string AnniversaryPartition(DateOnly enrolled) => "anniversary-" + enrolled.ToString("MM-dd", CultureInfo.InvariantCulture);

    /// <summary>The month-days celebrated on <paramref name="date"/>: its own, and 29 February on 28 February of a common year.</summary>
    public static IReadOnlyList<string> PartitionsFor(DateOnly date, string prefix = "birthday-") =>
        date is { Month: 2, Day: 28 } && !DateTime.IsLeapYear(date.Year)
            ? [prefix + date.ToString("MM-dd", CultureInfo.InvariantCulture), prefix + "02-29"]
            : [prefix + date.ToString("MM-dd", CultureInfo.InvariantCulture)];
}

/// <summary>
/// The day's birthday gifts (生日礼): lists the members born on the day, then grants each the birthday gift pack of
/// their tier and sends the birthday message, in batches. The instance id is the date, so the daily timer starting it
/// twice starts it once; each grant is keyed by (year, member), so a crashed run resumed, or any repeat, grants nothing
/// twice in a year.
/// </summary>
internal static class BirthdayGifts
{
    public const string Name = "BirthdayGifts";

    /// <summary>The instance id of a day.</summary>
    public static string InstanceId(DateOnly date) => "birthday-" + date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    [Function(Name)]
    public static Task<BirthdayResult> Run([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return RunAsync(context, context.GetInput<BirthdayInput>()!);
    }

    public static async Task<BirthdayResult> RunAsync(TaskOrchestrationContext context, BirthdayInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var members = await context.CallActivityAsync<List<string>>(ListBirthdayMembers.Name, input.Date, Activities.Retry);
        var batches = members.Chunk(50).ToList();
        var tally = BirthdayTally.Empty;
        for (var i = 0; i < batches.Count; i += 4)
        {
            var window = batches.Skip(i).Take(4).Select(b => context.CallActivityAsync<BirthdayTally>(GrantBirthdayGifts.Name, new BirthdayBatch(input.Date, b, context.InstanceId), Activities.Retry));
            foreach (var result in await Task.WhenAll(window))
            {
                tally = tally.Add(result);
            }

            context.SetCustomStatus(new { batchesDone = Math.Min(i + 4, batches.Count), batches = batches.Count, tally.Granted });
        }

        // Options: birthdays N days ahead get a reminder; enrolment anniversaries a message (and a gift if configured).
        var care = await context.CallActivityAsync<BirthdayCarePlan>(PlanBirthdayCare.Name, input.Date, Activities.Retry);
        var reminded = 0;
        if (care.ReminderDate is { } ahead)
        {
            var upcoming = await context.CallActivityAsync<List<string>>(ListBirthdayMembers.Name, ahead, Activities.Retry);
            foreach (var batch in upcoming.Chunk(100))
            {
                reminded += await context.CallActivityAsync<int>(RemindBirthdays.Name, new BirthdayBatch(ahead, batch, context.InstanceId), Activities.Retry);
            }
        }

        var anniversary = BirthdayTally.Empty;
        var celebrating = 0;
        if (care.Anniversaries)
        {
            var enrolled = await context.CallActivityAsync<List<string>>(ListAnniversaryMembers.Name, input.Date, Activities.Retry);
            celebrating = enrolled.Count;
            foreach (var batch in enrolled.Chunk(50))
            {
                anniversary = anniversary.Add(await context.CallActivityAsync<BirthdayTally>(GrantAnniversaries.Name, new BirthdayBatch(input.Date, batch, context.InstanceId), Activities.Retry));
            }
        }

        return new BirthdayResult(input.Date, members.Count, tally.Granted, tally.NoGift, tally.Notified, tally.Refused, reminded, celebrating, anniversary.Granted);
    }
}

/// <summary>Activity: reads the <c>birthday-care</c> options for a day.</summary>
internal sealed class PlanBirthdayCare(Storage.Config.ConfigStore config)
{
    public const string Name = "PlanBirthdayCare";

    [Function(Name)]
    public async Task<BirthdayCarePlan> RunAsync([ActivityTrigger] string input)
    {
        var care = (await config.GetAsync(BirthdayCare.Section, BirthdayCare.Default, CancellationToken.None)).Value;
        var date = DateOnly.ParseExact(input, "yyyy-MM-dd", CultureInfo.InvariantCulture);
        return new BirthdayCarePlan(
            care.ReminderDaysAhead is { } days ? date.AddDays(days).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : null,
            care.Anniversaries);
    }
}

/// <summary>Activity: reminds members (with consent) of their coming birthday, once per year.</summary>
internal sealed class RemindBirthdays(MemberStore members, NotificationOutbox outbox)
{
    public const string Name = "RemindBirthdays";

    [Function(Name)]
    public async Task<int> RunAsync([ActivityTrigger] BirthdayBatch input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var reminded = 0;
        await Parallel.ForEachAsync(input.MemberIds, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (memberId, ct) =>
        {
            if (await members.GetAsync(memberId, ct) is not { } member)
            {
                return;
            }

            var text = $"{member.Profile.Name}，{input.Date[5..]} 是您的生日，生日当天会员专享礼遇等您来领。";
            if (await outbox.QueueAsync(memberId, "birthday-reminder-" + input.Date[..4], "birthday_reminder", text, marketing: true, ct) == OutboxResult.Queued)
            {
                Interlocked.Increment(ref reminded);
            }
        });
        return reminded;
    }
}

/// <summary>Activity: the members enrolled on a date's month-day in an earlier year.</summary>
internal sealed class ListAnniversaryMembers(TableStore store)
{
    public const string Name = "ListAnniversaryMembers";

    [Function(Name)]
    public async Task<List<string>> RunAsync([ActivityTrigger] string input)
    {
        var date = DateOnly.ParseExact(input, "yyyy-MM-dd", CultureInfo.InvariantCulture);
        var members = new List<string>();
        foreach (var partition in BirthdayCalendar.PartitionsFor(date, "anniversary-"))
        {
            await foreach (var row in store.Schedules.QueryAsync<TableEntity>(TableFilter.Partition(partition)))
            {
                if (row.GetInt32("Year") is { } year && year < date.Year)
                {
                    members.Add(row.RowKey);
                }
            }
        }

        return [.. members.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
    }
}

/// <summary>Activity: the anniversary message and, when configured, gift pack (once per member and year).</summary>
internal sealed class GrantAnniversaries(MemberStore members, CouponIssuer issuer, Storage.Config.ConfigStore config, NotificationOutbox outbox, IOptions<LoyaltyOptions> options)
{
    public const string Name = "GrantAnniversaries";

    [Function(Name)]
    public async Task<BirthdayTally> RunAsync([ActivityTrigger] BirthdayBatch input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var care = (await config.GetAsync(BirthdayCare.Section, BirthdayCare.Default, CancellationToken.None)).Value;
        var year = int.Parse(input.Date[..4], CultureInfo.InvariantCulture);
        int granted = 0, noGift = 0, notified = 0, refused = 0;
        await Parallel.ForEachAsync(input.MemberIds, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (memberId, ct) =>
        {
            if (await members.GetAsync(memberId, ct) is not { } member)
            {
                Interlocked.Increment(ref refused);
                return;
            }

            if (care.AnniversaryGiftPack is { } packId)
            {
                var plan = await issuer.PlanPackAsync(packId, "anniversary", member.Profile.StoreId, ct);
                var outcome = plan.IsSuccess
                    ? await issuer.IssueAsync(memberId, plan.Value, new IdempotencyContext("system:anniversary:" + year.ToString(CultureInfo.InvariantCulture), memberId, "anniversary"), "orchestration:" + input.InstanceId, ct)
                    : new Refused(plan.Error);
                Interlocked.Increment(ref outcome is Completed ? ref granted : ref refused);
            }
            else
            {
                Interlocked.Increment(ref noGift);
            }

            var years = year - TimeZoneInfo.ConvertTime(member.Profile.EnrolledAt, options.Value.ChainTimeZone).Year;
            var text = $"{member.Profile.Name}，感谢您成为会员 {years} 周年！" + (care.AnniversaryGiftPack is null ? string.Empty : "周年礼已放入您的账户。");
            if (await outbox.QueueAsync(memberId, "anniversary-" + input.Date[..4], "anniversary", text, marketing: true, ct) == OutboxResult.Queued)
            {
                Interlocked.Increment(ref notified);
            }
        });
        return new BirthdayTally(granted, noGift, notified, refused);
    }
}

/// <summary>Activity: the members born on a date's month-day(s).</summary>
internal sealed class ListBirthdayMembers(TableStore store)
{
    public const string Name = "ListBirthdayMembers";

    [Function(Name)]
    public async Task<List<string>> RunAsync([ActivityTrigger] string input)
    {
        var date = DateOnly.ParseExact(input, "yyyy-MM-dd", CultureInfo.InvariantCulture);
        var members = new List<string>();
        foreach (var partition in BirthdayCalendar.PartitionsFor(date))
        {
            await foreach (var row in store.Schedules.QueryAsync<TableEntity>(TableFilter.Partition(partition)))
            {
                members.Add(row.RowKey);
            }
        }

        return [.. members.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
    }
}

/// <summary>Activity: grants a batch of members their tier's birthday pack, once per year, and queues the birthday message.</summary>
internal sealed class GrantBirthdayGifts(MemberStore members, CouponIssuer issuer, ProgrammeConfig programme, NotificationOutbox outbox, TimeProvider time)
{
    public const string Name = "GrantBirthdayGifts";

    [Function(Name)]
    public async Task<BirthdayTally> RunAsync([ActivityTrigger] BirthdayBatch input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var year = input.Date[..4];
        var rules = await programme.GetRulesAsync(CancellationToken.None);
        var packs = await programme.GetGiftPacksAsync(CancellationToken.None);
        int granted = 0, noGift = 0, notified = 0, refused = 0;
        await Parallel.ForEachAsync(input.MemberIds, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (memberId, ct) =>
        {
            var member = await members.GetAsync(memberId, ct);
            if (member is null)
            {
                Interlocked.Increment(ref refused);
                return;
            }

            var tier = rules.Tier(PaidMembershipRules.Effective(rules.Tiers, member.Account.Tier, member.Account.PaidTier, member.Account.PaidUntil, time.GetUtcNow()));
            string? giftName = null;
            if (tier.BirthdayGiftPack is { } packId)
            {
                var plan = await issuer.PlanPackAsync(packId, "birthday", member.Profile.StoreId, ct);
                var outcome = plan.IsSuccess
                    ? await issuer.IssueAsync(memberId, plan.Value, new IdempotencyContext("system:birthday:" + year, memberId, "birthday"), "orchestration:" + input.InstanceId, ct)
                    : new Refused(plan.Error);
                if (outcome is Completed)
                {
                    Interlocked.Increment(ref granted);
                    giftName = packs.Find(packId)?.Name;
                }
                else
                {
                    Interlocked.Increment(ref refused);
                }
            }
            else
            {
                Interlocked.Increment(ref noGift);
            }

            var text = $"{member.Profile.Name}，生日快乐！" + (giftName is null ? string.Empty : $"您的生日礼「{giftName}」已放入账户。");
            if (await outbox.QueueAsync(memberId, "birthday-" + year, "birthday", text, marketing: true, ct) == OutboxResult.Queued)
            {
                Interlocked.Increment(ref notified);
            }
        });
        return new BirthdayTally(granted, noGift, notified, refused);
    }
}

/// <summary>Timer-triggered, hourly: starts the chain-local day's birthday instance, unless it exists already.</summary>
internal sealed class StartBirthdayGifts(DurableClients durable, TimeProvider time, IOptions<LoyaltyOptions> options, ILogger<StartBirthdayGifts> logger) : ITimerFunction
{
    public const string Schedule = "0 5 * * * *";

    public async Task RunAsync(TimerInvocation invocation, CancellationToken cancellationToken)
    {
        var today = options.Value.LocalDay(time.GetUtcNow());
        var id = BirthdayGifts.InstanceId(today);
        if (await durable.Client.StartOnceAsync(BirthdayGifts.Name, new BirthdayInput(today.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)), id, cancellationToken))
        {
            logger.LogInformation("Started {InstanceId}", id);
        }
    }
}
