using Azure.Data.Tables;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Azure;
using Loyalty.Domain.Coupons;
using Loyalty.Storage.Config;
using Loyalty.Storage.Members;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;

namespace Loyalty.Storage.Coupons;

/// <summary>An issued coupon with the ETag of its row, for conditional updates inside a member transaction.</summary>
public sealed record StoredCoupon(Coupon Coupon, ETag ETag);

/// <summary>A due entry of the expiry or reminder schedule.</summary>
public sealed record ScheduledCoupon(string Kind, string Day, string Code, string MemberId, DateTimeOffset ValidUntil, ETag ETag);

/// <summary>
/// Coupons. A coupon lives in its owner's partition (row <c>coupon-{code}</c>) and changes state only inside member
/// transactions or with If-Match on its row. Around it, in the Coupons table:
/// <list type="bullet">
/// <item>the code index (in MemberIndex, <c>coupon-{code}</c>), so a code presented for the wrong member is
/// recognised as someone else's;</item>
/// <item>per limited template, a counter row and one claim row per issue (partition <c>quota-{templateId}</c>),
/// written together so a retried issue never counts twice;</item>
/// <item>the schedule: <c>expiry-{yyyyMMdd}</c> and <c>remind-{yyyyMMdd}</c> partitions (UTC day), one row per code,
/// read by the daily job.</item>
/// </list>
/// Index and schedule rows are written before the coupon itself; a row whose coupon never appeared is ignored and
/// removed by the job.
/// </summary>
public sealed class CouponStore(TableStore store, MemberStore members)
{
    /// <summary>Row key prefix of coupons in the member partition.</summary>
    public const string RowPrefix = "coupon-";

    private const string Counter = "counter";

    /// <summary>Row key of a coupon.</summary>
    public static string RowKey(string code) => RowPrefix + code;

    /// <summary>The coupon's row in its owner's partition.</summary>
    public static TableEntity ToRow(Coupon c)
    {
        ArgumentNullException.ThrowIfNull(c);
        var row = new TableEntity(c.MemberId, RowKey(c.Code))
        {
            ["Code"] = c.Code,
            ["TemplateId"] = c.TemplateId,
            ["Name"] = c.Name,
            ["Terms"] = JsonSerializer.Serialize(c.Terms, ConfigJson.Options),
            ["FaceValue"] = c.FaceValue,
            ["ValidFrom"] = c.ValidFrom,
            ["ValidUntil"] = c.ValidUntil,
            ["State"] = c.State.ToString(),
            ["Source"] = c.Source,
            ["IssuedAt"] = c.IssuedAt,
            ["RedeemedSaleId"] = c.RedeemedSaleId,
            ["RedeemedAt"] = c.RedeemedAt,
        };
        return row;
    }

    /// <summary>A coupon from its row.</summary>
    public static Coupon FromRow(TableEntity row)
    {
        ArgumentNullException.ThrowIfNull(row);
        return new Coupon(
            row.Require("Code"),
            row.PartitionKey,
            row.Require("TemplateId"),
            row.Require("Name"),
            JsonSerializer.Deserialize<CouponTerms>(row.Require("Terms"), ConfigJson.Options)!,
            row.GetInt64("FaceValue") ?? 0,
            row.GetDateTimeOffset("ValidFrom") ?? default,
            row.GetDateTimeOffset("ValidUntil") ?? default,
            Enum.Parse<CouponState>(row.Require("State")),
            row.Require("Source"),
            row.GetDateTimeOffset("IssuedAt") ?? default,
            row.GetString("RedeemedSaleId"),
            row.GetDateTimeOffset("RedeemedAt"));
    }

    /// <summary>One coupon of a member, with its ETag; null when the member holds no such code.</summary>
    public async Task<StoredCoupon?> GetAsync(string memberId, string code, CancellationToken cancellationToken = default)
    {
        var row = await store.Members.FindEntityAsync(memberId, RowKey(code), cancellationToken);
        return row is null ? null : new StoredCoupon(FromRow(row), row.ETag);
    }

    /// <summary>A member's coupons, optionally in one state, newest first.</summary>
    public async Task<IReadOnlyList<Coupon>> ListAsync(string memberId, CouponState? state, CancellationToken cancellationToken = default)
    {
        var filter = TableFilter.PartitionRowPrefix(memberId, RowPrefix);
        if (state is { } s)
        {
            filter += " and State eq " + TableFilter.Quote(s.ToString());
        }

        var list = new List<Coupon>();
        await foreach (var row in store.Members.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            list.Add(FromRow(row));
        }

        return [.. list.OrderByDescending(c => c.IssuedAt).ThenBy(c => c.Code, StringComparer.Ordinal)];
    }

    /// <summary>Claims a code for a member; returns the owner afterwards (another member on a collision).</summary>
    public Task<string> ClaimCodeAsync(string code, string memberId, CancellationToken cancellationToken = default) =>
        members.ClaimIndexAsync(IndexKey(code), memberId, cancellationToken);

    /// <summary>The member who holds <paramref name="code"/>, or null when nobody does.</summary>
    public async Task<string?> FindOwnerAsync(string code, CancellationToken cancellationToken = default)
    {
        var owner = await members.FindByIndexAsync(IndexKey(code), cancellationToken);
        return owner is not null && await store.Members.FindEntityAsync(owner, RowKey(code), cancellationToken) is not null ? owner : null;
    }

    /// <summary>Puts a coupon on the expiry schedule, and on the reminder schedule when <paramref name="remindAt"/> is set.</summary>
    public async Task ScheduleAsync(string memberId, string code, DateTimeOffset validUntil, DateTimeOffset? remindAt, CancellationToken cancellationToken = default)
    {
        await store.Coupons.UpsertEntityAsync(ScheduleRow("expiry", validUntil, code, memberId, validUntil), TableUpdateMode.Replace, cancellationToken: cancellationToken);
        if (remindAt is { } at)
        {
            await store.Coupons.UpsertEntityAsync(ScheduleRow("remind", at, code, memberId, validUntil), TableUpdateMode.Replace, cancellationToken: cancellationToken);
        }
    }

    /// <summary>Schedule entries of <paramref name="kind"/> (<c>expiry</c> or <c>remind</c>) on UTC days up to <paramref name="through"/>.</summary>
    public async IAsyncEnumerable<ScheduledCoupon> DueAsync(string kind, DateTimeOffset through, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var filter = $"PartitionKey ge {TableFilter.Quote(kind + "-")} and PartitionKey le {TableFilter.Quote(kind + "-" + Day(through))}";
        await foreach (var row in store.Coupons.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            yield return new ScheduledCoupon(kind, row.PartitionKey, row.RowKey, row.Require("MemberId"), row.GetDateTimeOffset("ValidUntil") ?? default, row.ETag);
        }
    }

    /// <summary>Removes a handled schedule entry.</summary>
    public Task CompleteAsync(ScheduledCoupon entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return store.Coupons.DeleteEntityAsync(entry.Day, entry.Code, entry.ETag, cancellationToken);
    }

    /// <summary>Coupons issued so far from a limited template: count and face value.</summary>
    public async Task<(long Issued, long Value)> QuotaUsedAsync(string templateId, CancellationToken cancellationToken = default)
    {
        var row = await store.Coupons.FindEntityAsync(QuotaPartition(templateId), Counter, cancellationToken);
        return (row?.GetInt64("Issued") ?? 0, row?.GetInt64("Value") ?? 0);
    }

    /// <summary>
    /// Reserves <paramref name="count"/> coupons worth <paramref name="value"/> of a limited template for one issue
    /// (<paramref name="claimId"/>). The counter and the claim row are written in one transaction, so repeating the
    /// same issue finds its claim instead of counting again. False when the limit would be passed.
    /// </summary>
    public async Task<bool> ReserveAsync(string templateId, string claimId, int count, long value, long? maxIssued, long? budget, CancellationToken cancellationToken = default)
    {
        var partition = QuotaPartition(templateId);
        for (var attempt = 0; ; attempt++)
        {
            var counter = await store.Coupons.FindEntityAsync(partition, Counter, cancellationToken);
            if (await store.Coupons.FindEntityAsync(partition, "claim-" + claimId, cancellationToken) is not null)
            {
                return true;
            }

            var issued = (counter?.GetInt64("Issued") ?? 0) + count;
            var spent = (counter?.GetInt64("Value") ?? 0) + value;
            if ((maxIssued is { } max && issued > max) || (budget is { } b && spent > b))
            {
                return false;
            }

            var next = new TableEntity(partition, Counter) { ["Issued"] = issued, ["Value"] = spent };
            try
            {
                await store.Coupons.SubmitTransactionAsync(
                [
                    counter is null ? new(TableTransactionActionType.Add, next) : new(TableTransactionActionType.UpdateReplace, next, counter.ETag),
                    new(TableTransactionActionType.Add, new TableEntity(partition, "claim-" + claimId) { ["Count"] = count, ["Value"] = value }),
                ],
                    cancellationToken);
                return true;
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412 && attempt < 20)
            {
                await Task.Delay(Random.Shared.Next(1, 10 * (attempt + 1)), cancellationToken);
            }
        }
    }

    /// <summary>Gives back a reservation whose issue was refused (nothing was issued under it).</summary>
    public async Task ReleaseAsync(string templateId, string claimId, CancellationToken cancellationToken = default)
    {
        var partition = QuotaPartition(templateId);
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var claim = await store.Coupons.FindEntityAsync(partition, "claim-" + claimId, cancellationToken);
            var counter = await store.Coupons.FindEntityAsync(partition, Counter, cancellationToken);
            if (claim is null || counter is null)
            {
                return;
            }

            var next = new TableEntity(partition, Counter)
            {
                ["Issued"] = (counter.GetInt64("Issued") ?? 0) - (claim.GetInt64("Count") ?? claim.GetInt32("Count") ?? 0),
                ["Value"] = (counter.GetInt64("Value") ?? 0) - (claim.GetInt64("Value") ?? 0),
            };
            try
            {
                await store.Coupons.SubmitTransactionAsync(
                [
                    new(TableTransactionActionType.UpdateReplace, next, counter.ETag),
                    new(TableTransactionActionType.Delete, claim, claim.ETag),
                ],
                    cancellationToken);
                return;
            }
            catch (RequestFailedException ex) when (ex.Status is 404 or 409 or 412)
            {
                await Task.Delay(Random.Shared.Next(1, 10 * (attempt + 1)), cancellationToken);
            }
        }
    }

    private static string IndexKey(string code) => "coupon-" + code;

    private static string QuotaPartition(string templateId) => "quota-" + templateId;

    private static string Day(DateTimeOffset at) => at.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    private static TableEntity ScheduleRow(string kind, DateTimeOffset day, string code, string memberId, DateTimeOffset validUntil) =>
        new(kind + "-" + Day(day), code) { ["MemberId"] = memberId, ["ValidUntil"] = validUntil };
}
