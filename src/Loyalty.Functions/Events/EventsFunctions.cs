using Loyalty.Domain.Auth;
using Loyalty.Functions.Http;
using Microsoft.Azure.Functions.Worker;

namespace Loyalty.Functions.Events;

/// <summary>The HTTP functions of integration events: trigger, route and who may call each; the handlers do the work.</summary>
internal sealed class EventsFunctions(WebhookEndpointsApi api)
{
    [Function("GetEventCatalogue")]
    [ApiKey(Role.HqAdmin, Role.Ops)]
    public static IResult GetEventCatalogue([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "events/catalogue")] HttpRequest request) =>
        WebhookEndpointsApi.Catalogue();

    [Function("CreateWebhookEndpoint")]
    [ApiKey(Role.HqAdmin, Role.Ops)]
    public Task<IResult> CreateWebhookEndpoint([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "webhook-endpoints")] HttpRequest request) =>
        api.CreateAsync(request.HttpContext);

    [Function("ListWebhookEndpoints")]
    [ApiKey(Role.HqAdmin, Role.Ops)]
    public Task<IResult> ListWebhookEndpoints([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "webhook-endpoints")] HttpRequest request) =>
        api.ListAsync(request.HttpContext);

    [Function("GetWebhookEndpoint")]
    [ApiKey(Role.HqAdmin, Role.Ops)]
    public Task<IResult> GetWebhookEndpoint([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "webhook-endpoints/{endpointId}")] HttpRequest request, string endpointId) =>
        api.GetAsync(request.HttpContext, endpointId);

    [Function("DeleteWebhookEndpoint")]
    [ApiKey(Role.HqAdmin, Role.Ops)]
    public Task<IResult> DeleteWebhookEndpoint([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "webhook-endpoints/{endpointId}")] HttpRequest request, string endpointId) =>
        api.DeleteAsync(request.HttpContext, endpointId);

    [Function("AddWebhookSecret")]
    [ApiKey(Role.HqAdmin, Role.Ops)]
    public Task<IResult> AddWebhookSecret([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "webhook-endpoints/{endpointId}/secrets")] HttpRequest request, string endpointId) =>
        api.AddSecretAsync(request.HttpContext, endpointId);

    [Function("DeleteWebhookSecret")]
    [ApiKey(Role.HqAdmin, Role.Ops)]
    public Task<IResult> DeleteWebhookSecret([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "webhook-endpoints/{endpointId}/secrets/{secretId}")] HttpRequest request, string endpointId, string secretId) =>
        api.DeleteSecretAsync(request.HttpContext, endpointId, secretId);

    [Function("ListWebhookDeliveries")]
    [ApiKey(Role.HqAdmin, Role.Ops)]
    public Task<IResult> ListWebhookDeliveries([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "webhook-endpoints/{endpointId}/deliveries")] HttpRequest request, string endpointId) =>
        api.ListDeliveriesAsync(request.HttpContext, endpointId);

    [Function("ReplayWebhookDelivery")]
    [ApiKey(Role.HqAdmin, Role.Ops)]
    public Task<IResult> ReplayWebhookDelivery([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "webhook-endpoints/{endpointId}/deliveries/{eventId}/replay")] HttpRequest request, string endpointId, string eventId) =>
        api.ReplayAsync(request.HttpContext, endpointId, eventId);
}
