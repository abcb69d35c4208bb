using Loyalty.Domain.Members;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Http;
using Loyalty.Storage.Members;
using Loyalty.Storage.Schema;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Members;

/// <summary><c>GET /api/members?phone=|cardNumber=</c>: look a member up at the till by exactly one of phone or card.</summary>
internal static class FindMember
{
    public static async Task<IResult> Handle(HttpContext http, MemberStore members, MemberViews views, IOptions<LoyaltyOptions> options)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(options);
        var query = http.Request.Query;
        var phone = query["phone"].ToString();
        var card = query["cardNumber"].ToString();
        if (string.IsNullOrEmpty(phone) == string.IsNullOrEmpty(card) || query["phone"].Count > 1 || query["cardNumber"].Count > 1)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "lookup_query_invalid", "Give exactly one of ?phone= or ?cardNumber=.");
        }

        string indexKey;
        if (!string.IsNullOrEmpty(phone))
        {
            var parsed = PhoneNumber.Parse(phone);
            if (!parsed.IsSuccess)
            {
                return Problems.From(parsed.Error);
            }

            indexKey = MemberStore.PhoneIndexKey(Hashing.KeyedHex(options.Value.PhoneHashKey, parsed.Value.Value));
        }
        else
        {
            var parsed = CardNumber.Parse(card);
            if (!parsed.IsSuccess)
            {
                return Problems.From(parsed.Error);
            }

            indexKey = MemberStore.CardIndexKey(parsed.Value.Value);
        }

        var memberId = await members.FindByIndexAsync(indexKey, http.RequestAborted);
        var member = memberId is null ? null : await members.GetAsync(memberId, http.RequestAborted);
        ArgumentNullException.ThrowIfNull(views);
        return member is null ? GetMember.NotFound() : TypedResults.Ok(await views.BuildAsync(member, http.Caller().Role, http.RequestAborted));
    }
}
