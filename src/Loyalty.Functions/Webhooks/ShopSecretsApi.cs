using Loyalty.Functions.Http;
using Loyalty.Storage.Org;
using Loyalty.Storage.Webhooks;

namespace Loyalty.Functions.Webhooks;

/// <summary>
/// <c>POST|GET /api/config/shops/{shopId}/secrets</c> and <c>DELETE .../secrets/{secretId}</c> (HQ admins, ops): a
/// shop has at most two active signing secrets; a new one is shown once, then only its id. Rotation: create the new
/// secret, switch the shop to it, delete the old one.
/// </summary>
internal static class ShopSecretsApi
{
    public static async Task<IResult> CreateAsync(HttpContext http, string shopId, ShopSecretStore secrets, OrgStore org)
    {
        ArgumentNullException.ThrowIfNull(http);
        if ((await org.GetRequiredAsync(http.RequestAborted)).FindStore(shopId) is null)
        {
            return Problems.Create(StatusCodes.Status404NotFound, "shop_unknown", $"No shop '{shopId}'.");
        }

        var created = await secrets.CreateAsync(shopId, http.Caller().Id, http.RequestAborted);
        return created is { } c
            ? TypedResults.Created($"/api/config/shops/{shopId}/secrets/{c.SecretId}", new { secretId = c.SecretId, secret = c.Secret })
            : Problems.Create(StatusCodes.Status409Conflict, "too_many_secrets", $"A shop has at most {ShopSecretStore.MaxActive} active secrets; delete the old one first.");
    }

    public static async Task<IResult> ListAsync(HttpContext http, string shopId, ShopSecretStore secrets)
    {
        ArgumentNullException.ThrowIfNull(http);
        return TypedResults.Ok(new { items = await secrets.ListAsync(shopId, http.RequestAborted) });
    }

    public static async Task<IResult> DeleteAsync(HttpContext http, string shopId, string secretId, ShopSecretStore secrets)
    {
        ArgumentNullException.ThrowIfNull(http);
        await secrets.DeleteAsync(shopId, secretId, http.RequestAborted);
        return TypedResults.NoContent();
    }
}
