using Azure.Data.Tables;
using Loyalty.Domain.Common;
using Loyalty.Domain.Tags;
using Loyalty.Functions.Hosting;
using Loyalty.Storage.Ledger;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;

namespace Loyalty.Functions.Tags;

/// <summary>
/// Recomputes the automatic tags that time changes without any purchase ("bought within N days"), for the members
/// listed under such tags only. Each member's recompute is a member transaction without a ledger entry.
/// </summary>
internal sealed class TagRecompute(MemberTransactions transactions, MemberTagging tagging, TableStore store)
{
    /// <summary>Recomputes as of the chain's <paramref name="today"/>; returns how many members lost a tag.</summary>
    public async Task<int> RunAsync(DateOnly today, CancellationToken ct)
    {
        var rules = await tagging.RulesAsync(ct);
        var changed = 0;
        foreach (var tag in rules.Where(r => r.Kind == TagKind.PurchasedWithinDays).Select(r => r.Tag).Distinct(StringComparer.Ordinal))
        {
            var members = new List<string>();
            await foreach (var row in store.Segments.QueryAsync<TableEntity>(TableFilter.Partition(MemberTagging.Partition(tag)), cancellationToken: ct))
            {
                members.Add(row.RowKey);
            }

            await Parallel.ForEachAsync(members, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (memberId, token) =>
            {
                TagChange? change = null;
                var outcome = await transactions.ExecuteAsync(memberId, null, async (account, inner) =>
                {
                    change = await tagging.ChangeAsync(account, null, account.Tier, today, inner);
                    return change.AutoTags == (account.AutoTags ?? string.Empty)
                        ? new DomainError("tags_unchanged", "Nothing to change.", ErrorKind.Conflict)
                        : MemberTagging.Apply(new WriteDecision(null, _ => new { memberId }, WriteDecision.None, 200), change);
                }, token);
                if (outcome is Completed && change is { Removed.Count: > 0 })
                {
                    await tagging.UnlistAsync(memberId, change.Removed, token);
                    Interlocked.Increment(ref changed);
                }
                else if (outcome is Refused { Error.Code: "member_not_found" })
                {
                    await tagging.UnlistAsync(memberId, [tag], token);
                }
            });
        }

        return changed;
    }
}

/// <summary>Timer-triggered, daily: recomputes time-dependent automatic tags.</summary>
internal sealed class RecomputeTags(TagRecompute recompute, TimeProvider time, Microsoft.Extensions.Options.IOptions<LoyaltyOptions> options, ILogger<RecomputeTags> logger) : ITimerFunction
{
    public const string Schedule = "0 50 2 * * *";

    public async Task RunAsync(TimerInvocation invocation, CancellationToken cancellationToken)
    {
        var today = options.Value.LocalDay(time.GetUtcNow());
        var changed = await recompute.RunAsync(today, cancellationToken);
        logger.LogInformation("Tags recomputed: {Changed} members lost a time-dependent tag", changed);
    }
}
