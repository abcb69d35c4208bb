namespace Loyalty.Domain.Auth;

/// <summary>What a principal is; each role is bound to one kind of org scope (see <see cref="RoleRules"/>).</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<Role>))]
public enum Role
{
    /// <summary>A store's till (门店收银); scoped to one store.</summary>
    Terminal,
    /// <summary>A store manager; scoped to one store.</summary>
    StoreManager,
    /// <summary>A region manager; scoped to a region.</summary>
    RegionManager,
    /// <summary>HQ administration; scoped to HQ.</summary>
    HqAdmin,
    /// <summary>Operations (运营): campaigns and configuration; scoped to HQ.</summary>
    Ops,
    /// <summary>An online shop sending webhooks; scoped to the store that represents it.</summary>
    Shop,
}
