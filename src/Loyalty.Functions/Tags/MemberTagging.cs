using Azure.Data.Tables;
using Loyalty.Domain.Programme;
using Loyalty.Domain.Tags;
using Loyalty.Functions.Programme;
using Loyalty.Storage.Config;
using Loyalty.Storage.Ledger;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;

namespace Loyalty.Functions.Tags;

/// <summary>A tag decision inside a member transaction: the new stats and automatic tags, and the tags the member lost.</summary>
internal sealed record TagChange(string? Stats, string AutoTags, IReadOnlyList<string> Removed);

/// <summary>
/// Keeps members' tags: automatic tags are recomputed in the transaction of each purchase or refund (from the stats
/// kept on the account row) and on a schedule for tags that time takes away; manual tags are set by staff. The
/// <c>Segments</c> table lists members by tag: a tag a member gains is listed before the commit, a tag it loses is
/// unlisted after it, and readers check the member's own row, so the list may briefly hold extra members but never
/// misses one.
/// </summary>
internal sealed class MemberTagging(ConfigStore config, TableStore store)
{
    /// <summary>Configuration section of the tag rules.</summary>
    public const string Section = "tag-rules";

    /// <summary>Partition of a tag in the <c>Segments</c> table.</summary>
    public static string Partition(string tag) => "tag-" + tag;

    /// <summary>The tag rules in force.</summary>
    public async Task<IReadOnlyList<TagRule>> RulesAsync(CancellationToken ct) =>
        (await config.GetAsync<IReadOnlyList<TagRule>>(Section, [], ct)).Value;

    /// <summary>Recomputes the automatic tags of <paramref name="account"/> with <paramref name="stats"/> (null: unchanged) and lists the tags gained.</summary>
    public async Task<TagChange> ChangeAsync(AccountState account, MemberStats? stats, string tier, DateOnly today, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(account);
        var rules = await RulesAsync(ct);
        var auto = TagRules.Evaluate(rules, stats ?? MemberStats.Parse(account.Stats), tier, today);
        var manual = TagRules.Split(account.ManualTags);
        var before = TagRules.Split(account.AutoTags);
        await ListAsync(account.MemberId, auto.Except(before).Except(manual), ct);
        return new TagChange(stats?.ToJson(), TagRules.Join(auto), [.. before.Except(auto).Except(manual)]);
    }

    /// <summary><paramref name="decision"/> with the tag change written in the same transaction.</summary>
    public static WriteDecision Apply(WriteDecision decision, TagChange change) =>
        decision with { Stats = change.Stats ?? decision.Stats, AutoTags = change.AutoTags };

    /// <summary>Lists a member under tags (before a commit).</summary>
    public async Task ListAsync(string memberId, IEnumerable<string> tags, CancellationToken ct)
    {
        foreach (var tag in tags)
        {
            await store.Segments.UpsertEntityAsync(new TableEntity(Partition(tag), memberId), TableUpdateMode.Replace, cancellationToken: ct);
        }
    }

    /// <summary>Unlists a member from tags it no longer carries (after the commit).</summary>
    public async Task UnlistAsync(string memberId, IEnumerable<string> tags, CancellationToken ct)
    {
        foreach (var tag in tags)
        {
            await store.Segments.DeleteEntityAsync(Partition(tag), memberId, default, ct);
        }
    }

    /// <summary>Whether an account row carries <paramref name="tag"/> (automatic or manual).</summary>
    public static bool Carries(TableEntity account, string tag)
    {
        ArgumentNullException.ThrowIfNull(account);
        return TagRules.Split(account.GetString("AutoTags")).Contains(tag) || TagRules.Split(account.GetString("ManualTags")).Contains(tag);
    }

    /// <summary>Checks tag rules against the tiers in force.</summary>
    internal static Domain.Common.DomainError? Check(IReadOnlyList<TagRule> rules, IReadOnlyList<TierRule> tiers) =>
        TagRules.Check(rules, [.. tiers.Select(t => t.Code)]);
}
