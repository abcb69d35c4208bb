using Loyalty.Domain.Auth;
using Loyalty.Functions.Http;
using Microsoft.Azure.Functions.Worker;

namespace Loyalty.Functions.Webhooks;

/// <summary>The HTTP functions of this area: trigger, route and who may call each; the handlers do the work.</summary>
internal sealed class WebhooksFunctions(
    global::Loyalty.Functions.Webhooks.ShopWebhook shopWebhook,
    global::Loyalty.Storage.Webhooks.ShopSecretStore shopSecretStore,
    global::Loyalty.Storage.Org.OrgStore orgStore)
{
    [Function("ShopOrderWebhook")]
    [Anonymous]
    public Task<IResult> ShopOrderWebhook([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "webhooks/shops/{shopId}/orders")] HttpRequest request, string shopId) =>
        shopWebhook.HandleAsync(request.HttpContext, shopId);

    [Function("CreateShopSecret")]
    [ApiKey(Role.HqAdmin, Role.Ops)]
    public Task<IResult> CreateShopSecret([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "config/shops/{shopId}/secrets")] HttpRequest request, string shopId) =>
        global::Loyalty.Functions.Webhooks.ShopSecretsApi.CreateAsync(request.HttpContext, shopId, shopSecretStore, orgStore);

    [Function("ListShopSecrets")]
    [ApiKey(Role.HqAdmin, Role.Ops)]
    public Task<IResult> ListShopSecrets([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "config/shops/{shopId}/secrets")] HttpRequest request, string shopId) =>
        global::Loyalty.Functions.Webhooks.ShopSecretsApi.ListAsync(request.HttpContext, shopId, shopSecretStore);

    [Function("DeleteShopSecret")]
    [ApiKey(Role.HqAdmin, Role.Ops)]
    public Task<IResult> DeleteShopSecret([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "config/shops/{shopId}/secrets/{secretId}")] HttpRequest request, string shopId, string secretId) =>
        global::Loyalty.Functions.Webhooks.ShopSecretsApi.DeleteAsync(request.HttpContext, shopId, secretId, shopSecretStore);
}
