using Azure.Data.Tables;
using System.Globalization;
using Loyalty.Domain.Common;
using Loyalty.Domain.Tags;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Http;
using Loyalty.Functions.Ledger;
using Loyalty.Functions.Members;
using Loyalty.Storage.Ledger;
using Loyalty.Storage.Members;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Tags;

/// <summary>Body of <c>PUT /api/members/{memberId}/tags</c>: the member's manual tags (replacing the earlier ones).</summary>
internal sealed record ManualTagsRequest(IReadOnlyList<string>? Tags);

/// <summary>A member's tags.</summary>
internal sealed record MemberTagsView(string MemberId, IReadOnlyList<string> Auto, IReadOnlyList<string> Manual);

/// <summary>A member listed under a tag.</summary>
internal sealed record TaggedMember(string MemberId, string Tier, IReadOnlyList<string> Tags);

/// <summary>
/// Tags: staff set manual tags (<c>PUT /api/members/{memberId}/tags</c>, store managers and above; audited), anyone on
/// staff lists the members carrying a tag (<c>GET /api/tags/{tag}/members</c>, paged).
/// </summary>
internal sealed class TagsApi(MemberTransactions transactions, MemberTagging tagging, TableStore store, IOptions<LoyaltyOptions> options)
{
    public async Task<IResult> SetManualAsync(HttpContext http, string memberId)
    {
        ArgumentNullException.ThrowIfNull(http);
        var ct = http.RequestAborted;
        var (body, problem) = await JsonBody.ReadAsync<ManualTagsRequest>(http.Request, options.Value.MaxRequestBodyBytes, ["auto", "memberId"], ct);
        if (problem is not null)
        {
            return problem;
        }

        var tags = body!.Value.Tags ?? [];
        if (tags.Count > TagRules.MaxManualTags || tags.Any(t => !TagRules.IsValidName(t)))
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "tags_invalid", $"Up to {TagRules.MaxManualTags} tags of 1-32 letters, digits, '-' or '_'.", "tags");
        }

        if (MemberOperation.CheckMemberId(memberId) is { } missing)
        {
            return missing;
        }

        var caller = http.Caller();
        await tagging.ListAsync(memberId, tags, ct);
        IReadOnlyList<string> removed = [];
        var outcome = await transactions.ExecuteAsync(memberId, null, (account, _) =>
        {
            var auto = TagRules.Split(account.AutoTags);
            removed = [.. TagRules.Split(account.ManualTags).Except(tags).Except(auto)];
            var manual = TagRules.Join(tags);
            return Task.FromResult<Result<LedgerDecision>>(new WriteDecision(
                null,
                _ => new MemberTagsView(memberId, auto, TagRules.Split(manual)),
                _ => [new(TableTransactionActionType.Add, transactions.AuditRow(memberId, caller.Id, "tags.set", memberId, account.ManualTags, manual))])
            {
                ManualTags = manual,
                Status = StatusCodes.Status200OK,
            });
        }, ct);
        if (outcome is Completed)
        {
            await tagging.UnlistAsync(memberId, removed, ct);
        }

        return MemberOperation.ToResult(outcome);
    }

    public async Task<IResult> ListMembersAsync(HttpContext http, string tag)
    {
        ArgumentNullException.ThrowIfNull(http);
        var ct = http.RequestAborted;
        if (!TagRules.IsValidName(tag))
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "tags_invalid", "A tag is 1-32 letters, digits, '-' or '_'.", "tag");
        }

        var sizeText = http.Request.Query["pageSize"].ToString();
        var pageSize = 100;
        if (sizeText.Length > 0 && (!int.TryParse(sizeText, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > 500))
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "page_size_invalid", "pageSize is 1-500.", "pageSize");
        }

        TableContinuation? continuation = null;
        if (http.Request.Query["continuationToken"].ToString() is { Length: > 0 } token)
        {
            continuation = TableContinuation.Decode(token);
            if (continuation is null)
            {
                return Problems.Create(StatusCodes.Status400BadRequest, "continuation_token_invalid", "The continuation token is not one this API issued.", "continuationToken");
            }
        }

        var page = await store.Segments.QueryPageAsync(TableFilter.Partition(MemberTagging.Partition(tag)), pageSize, continuation, cancellationToken: ct);
        var items = new List<TaggedMember>();
        foreach (var row in page.Items)
        {
            // The list may hold a member who lost the tag a moment ago: check the member's own row.
            var account = await store.Members.FindEntityAsync(row.RowKey, MemberStore.AccountRow(row.RowKey), ct);
            if (account is not null && MemberTagging.Carries(account, tag))
            {
                items.Add(new TaggedMember(row.RowKey, account.GetString("Tier") ?? string.Empty,
                    [.. TagRules.Split(account.GetString("AutoTags")).Concat(TagRules.Split(account.GetString("ManualTags"))).Distinct(StringComparer.Ordinal)]));
            }
        }

        return TypedResults.Ok(new { tag, items, continuationToken = page.Continuation?.Encode() });
    }
}
