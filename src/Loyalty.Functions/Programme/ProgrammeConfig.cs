using System.Globalization;
using System.Text.Json;
using Loyalty.Domain.Auth;
using Loyalty.Domain.Common;
using Loyalty.Domain.Programme;
using Loyalty.Storage.Config;

namespace Loyalty.Functions.Programme;

/// <summary>
/// The programme's configuration sections (<c>/api/config/{section}</c>) and the snapshot of all of them that
/// pricing uses. The snapshot's version names each section's version, and is written on every ledger entry.
/// </summary>
internal sealed class ProgrammeConfig(ConfigStore config)
{
    public static readonly IReadOnlyDictionary<string, ISection> Sections = new Dictionary<string, ISection>(StringComparer.Ordinal)
    {
        ["earning-rules"] = new Section<EarningRules>(EarningRules.Default, ProgrammeValidation.Check),
        ["tiers"] = new Section<IReadOnlyList<TierRule>>(ProgrammeRules.DefaultTiers, ProgrammeValidation.Check),
        ["member-days"] = new Section<IReadOnlyList<MemberDayRule>>(ProgrammeRules.DefaultMemberDays, ProgrammeValidation.Check),
        ["top-up-bonuses"] = new Section<TopUpRules>(TopUpRules.Default, ProgrammeValidation.Check),
        ["stored-value"] = new Section<StoredValueRules>(StoredValueRules.Default, _ => null),
        ["rewards"] = new Section<IReadOnlyList<Reward>>(ProgrammeRules.DefaultRewards, ProgrammeValidation.Check),
        ["adjustment-authority"] = new Section<AdjustmentAuthority>(AdjustmentAuthority.Default, ProgrammeValidation.Check),
    };

    public async Task<ProgrammeRules> GetRulesAsync(CancellationToken cancellationToken)
    {
        var earning = await config.GetAsync("earning-rules", EarningRules.Default, cancellationToken);
        var tiers = await config.GetAsync("tiers", ProgrammeRules.DefaultTiers, cancellationToken);
        var days = await config.GetAsync("member-days", ProgrammeRules.DefaultMemberDays, cancellationToken);
        var topUp = await config.GetAsync("top-up-bonuses", TopUpRules.Default, cancellationToken);
        var storedValue = await config.GetAsync("stored-value", StoredValueRules.Default, cancellationToken);
        var rewards = await config.GetAsync("rewards", ProgrammeRules.DefaultRewards, cancellationToken);
        var authority = await config.GetAsync("adjustment-authority", AdjustmentAuthority.Default, cancellationToken);
        var version = string.Join('.', new[] { earning.Version, tiers.Version, days.Version, topUp.Version, storedValue.Version, rewards.Version, authority.Version }
            .Select(v => v.ToString(CultureInfo.InvariantCulture)));
        return new ProgrammeRules(earning.Value, tiers.Value, days.Value, topUp.Value, storedValue.Value, rewards.Value, authority.Value, "r" + version);
    }

    /// <summary>One configuration section: its default and its validation.</summary>
    internal interface ISection
    {
        Task<(object Value, long Version)> GetAsync(ConfigStore store, string name, CancellationToken cancellationToken);

        (object? Value, DomainError? Error) Parse(JsonElement body);

        Task<long?> PutAsync(ConfigStore store, string name, object value, long expectedVersion, string actor, CancellationToken cancellationToken);
    }

    private static readonly JsonSerializerOptions Strict = new(ConfigJson.Options) { UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow };

    private sealed class Section<T>(T fallback, Func<T, DomainError?> validate) : ISection
    {
        public async Task<(object Value, long Version)> GetAsync(ConfigStore store, string name, CancellationToken cancellationToken)
        {
            var document = await store.GetAsync(name, fallback, cancellationToken);
            return (document.Value!, document.Version);
        }

        public (object? Value, DomainError? Error) Parse(JsonElement body)
        {
            T? value;
            try
            {
                value = body.Deserialize<T>(Strict);
            }
            catch (JsonException ex)
            {
                return (null, DomainError.Invalid("config_invalid", ex.Path?.TrimStart('$', '.') ?? "value", $"The section does not have the expected shape: {ex.Message}"));
            }

            if (value is null)
            {
                return (null, DomainError.Invalid("config_invalid", "value", "The section is empty."));
            }

            return (value, validate(value));
        }

        public Task<long?> PutAsync(ConfigStore store, string name, object value, long expectedVersion, string actor, CancellationToken cancellationToken) =>
            store.PutAsync(name, (T)value, expectedVersion, actor, cancellationToken);
    }
}

/// <summary>Roles that may change programme configuration.</summary>
internal static class ConfigRoles
{
    public static readonly Role[] Writers = [Role.HqAdmin, Role.Ops];
}
