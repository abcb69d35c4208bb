using Loyalty.Functions.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Loyalty.Functions.Cards;

/// <summary>The HTTP functions of this area: trigger, route and who may call each; the handlers do the work.</summary>
internal sealed class CardsFunctions(
    global::Loyalty.Functions.Cards.IssueCard issueCard,
    global::Loyalty.Functions.Cards.CardOperations cardOperations)
{
    [Function("IssueCard")]
    [ApiKey]
    public Task<IResult> IssueCard([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "members/{memberId}/cards")] HttpRequest request, string memberId) =>
        issueCard.HandleAsync(request.HttpContext, memberId);

    [Function("CardOperation")]
    [ApiKey]
    public Task<IResult> CardOperation([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "cards/{cardNumber}/{op}")] HttpRequest request, [DurableClient] DurableTaskClient durable, string cardNumber, string op) =>
        cardOperations.HandleAsync(request.HttpContext, cardNumber, op);
}
