using System.Text.Json;
using Loyalty.Domain.Ledger;

namespace Loyalty.Functions.Ledger;

/// <summary>Balances as responses show them: points and stored value (principal, bonus) in fen.</summary>
internal sealed record BalancesDto(long Points, StoredValueDto StoredValue)
{
    public static BalancesDto From(Balances balances) => new(balances.Points, new StoredValueDto(balances.Principal, balances.Bonus, balances.StoredValue));
}

/// <summary>Stored value in fen.</summary>
internal sealed record StoredValueDto(long Principal, long Bonus, long Total);

/// <summary>Enum values as the API and ledger reason codes spell them.</summary>
internal static class Naming
{
    public static string Snake<TEnum>(TEnum value)
        where TEnum : struct, Enum => JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());

    public static string Camel<TEnum>(TEnum value)
        where TEnum : struct, Enum => JsonNamingPolicy.CamelCase.ConvertName(value.ToString());
}
