using System.Globalization;
using Loyalty.Domain.Common;
using Loyalty.Domain.Ledger;
using Loyalty.Domain.Members;
using Loyalty.Domain.Org;
using Loyalty.Domain.Programme;

namespace Loyalty.Functions.Batches;

/// <summary>What a batch does with its rows.</summary>
internal enum BatchKind
{
    /// <summary>Enrols members (企业批量导入), with their cards, tiers and opening balances from the old system.</summary>
    Members,

    /// <summary>Tops up members' stored value (企业批量充值).</summary>
    TopUps,
}

/// <summary>A row that cannot be applied: its row number in the file, the column at fault, a stable code and a message.</summary>
internal sealed record BatchError(int Row, string? Column, string Code, string Message);

/// <summary>A member to import, checked.</summary>
internal sealed record MemberImportRow(
    int Row,
    string Phone,
    string Name,
    string StoreId,
    string? CardNumber,
    string? Birthday,
    string? Tier,
    long Principal,
    long Bonus,
    long Points,
    string? Reason);

/// <summary>A top-up, checked: the member by id, card or phone; the amount and an optional bonus replacing the bands' (fen).</summary>
internal sealed record TopUpImportRow(int Row, string? MemberId, string? CardNumber, string? Phone, long Amount, long? Bonus);

/// <summary>What the checks need: the org, the programme, today, and what earlier rows of the file used.</summary>
internal sealed class BatchCheckContext(OrgTree org, ProgrammeRules rules, DateOnly today, string storeId)
{
    public OrgTree Org { get; } = org;

    public ProgrammeRules Rules { get; } = rules;

    public DateOnly Today { get; } = today;

    /// <summary>The store top-ups are booked at (the batch's <c>storeId</c>).</summary>
    public string StoreId { get; } = storeId;

    public HashSet<string> Phones { get; } = new(StringComparer.Ordinal);

    public HashSet<string> Cards { get; } = new(StringComparer.Ordinal);
}

/// <summary>
/// The columns of each kind of batch file and the checks of each row: the same rules as the one-member calls
/// (enrolment, top-up bands and limits), plus what only a file can get wrong (an unknown or missing column, a cell a
/// spreadsheet would run as a formula, a phone or card twice in one file).
/// </summary>
internal static class BatchRows
{
    /// <summary>Most fen of principal or bonus, and most points, a migrated member may open with.</summary>
    public const long MaxOpening = 100_000_000;

    private static readonly string[] MemberColumns = ["phone", "name", "storeId", "cardNumber", "birthday", "tier", "principal", "bonus", "points", "reason"];
    private static readonly string[] MemberRequired = ["phone", "name", "storeId"];
    private static readonly string[] TopUpColumns = ["memberId", "cardNumber", "phone", "amount", "bonus"];

    /// <summary>The columns a kind's file may have.</summary>
    public static IReadOnlyList<string> Columns(BatchKind kind) => kind == BatchKind.Members ? MemberColumns : TopUpColumns;

    /// <summary>Reads the header row: each column's position by name; an error names the column that is wrong or missing.</summary>
    public static Dictionary<string, int> Header(BatchKind kind, BatchFileRow header)
    {
        ArgumentNullException.ThrowIfNull(header);
        var known = Columns(kind);
        var positions = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < header.Cells.Count; i++)
        {
            var name = header.Cells[i].Trim().TrimStart('\uFEFF');
            if (name.Length == 0)
            {
                continue;
            }

            var column = known.FirstOrDefault(c => c.Equals(name, StringComparison.OrdinalIgnoreCase))
                ?? throw new BatchFileException(StatusCodes.Status400BadRequest, "header_invalid", $"Column '{Truncate(name)}' is not one of {string.Join(", ", known)}.");
            if (!positions.TryAdd(column, i))
            {
                throw new BatchFileException(StatusCodes.Status400BadRequest, "header_invalid", $"Column '{column}' appears twice.");
            }
        }

        var missing = kind == BatchKind.Members
            ? MemberRequired.FirstOrDefault(c => !positions.ContainsKey(c))
            : !positions.ContainsKey("amount") ? "amount" : positions.Keys.Any(c => c is "memberId" or "cardNumber" or "phone") ? null : "memberId";
        return missing is null
            ? positions
            : throw new BatchFileException(StatusCodes.Status400BadRequest, "header_invalid",
                kind == BatchKind.TopUps && missing == "memberId" ? "A top-up file names the member in a memberId, cardNumber or phone column." : $"Column '{missing}' is required.");
    }

    /// <summary>Checks a member row; the errors, or the row to import.</summary>
    public static (MemberImportRow? Row, IReadOnlyList<BatchError> Errors) CheckMember(BatchFileRow row, Dictionary<string, int> columns, BatchCheckContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var errors = Formulas(row, columns);
        if (errors.Count > 0)
        {
            return (null, errors);
        }

        string? Cell(string name) => CellOf(row, columns, name);
        var birthday = Birthday(Cell("birthday"));
        var enrolment = Enrolment.Create(Cell("phone"), Cell("name"), birthday, null, Cell("storeId"), nameof(EnrolmentChannel.BatchImport), null, false, context.Org, context.Today);
        if (!enrolment.IsSuccess)
        {
            errors.Add(From(row.Row, enrolment.Error));
        }
        else if (!context.Phones.Add(enrolment.Value!.Phone.Value))
        {
            errors.Add(new BatchError(row.Row, "phone", "duplicate_in_file", "This phone number is on an earlier row of the file."));
        }

        string? card = null;
        if (Cell("cardNumber") is { } cardText)
        {
            var parsed = CardNumber.Parse(cardText);
            if (!parsed.IsSuccess)
            {
                errors.Add(From(row.Row, parsed.Error));
            }
            else if (!context.Cards.Add(parsed.Value.Value))
            {
                errors.Add(new BatchError(row.Row, "cardNumber", "duplicate_in_file", "This card number is on an earlier row of the file."));
            }
            else
            {
                card = parsed.Value!.Value;
            }
        }

        var tier = Cell("tier");
        if (tier is not null && context.Rules.Tiers.All(t => t.Code != tier))
        {
            errors.Add(new BatchError(row.Row, "tier", "tier_unknown", $"Tier is one of {string.Join(", ", context.Rules.Tiers.Select(t => t.Code))}."));
        }

        var principal = Amount(row.Row, "principal", Cell("principal"), MaxOpening, errors);
        var bonus = Amount(row.Row, "bonus", Cell("bonus"), MaxOpening, errors);
        var points = Amount(row.Row, "points", Cell("points"), MaxOpening, errors);
        var reason = Cell("reason");
        if ((principal > 0 || bonus > 0 || points > 0) && reason is null)
        {
            errors.Add(new BatchError(row.Row, "reason", "reason_required", "Opening balances need a migration reason (e.g. the old system's account)."));
        }
        else if (reason is { Length: > 200 })
        {
            errors.Add(new BatchError(row.Row, "reason", "reason_invalid", "The reason is up to 200 characters."));
        }

        return errors.Count > 0
            ? (null, errors)
            : (new MemberImportRow(row.Row, enrolment.Value!.Phone.Value, enrolment.Value.Name, enrolment.Value.StoreId, card, birthday, tier, principal, bonus, points, reason), errors);
    }

    /// <summary>Checks a top-up row; the errors, or the row to apply.</summary>
    public static (TopUpImportRow? Row, IReadOnlyList<BatchError> Errors) CheckTopUp(BatchFileRow row, Dictionary<string, int> columns, BatchCheckContext context, string principalId)
    {
        ArgumentNullException.ThrowIfNull(context);
        var errors = Formulas(row, columns);
        if (errors.Count > 0)
        {
            return (null, errors);
        }

        string? Cell(string name) => CellOf(row, columns, name);
        var memberId = Cell("memberId");
        var card = Cell("cardNumber");
        var phone = Cell("phone");
        var named = new[] { memberId, card, phone }.Count(v => v is not null);
        if (named != 1)
        {
            errors.Add(new BatchError(row.Row, "memberId", "member_required", "Name the member by exactly one of memberId, cardNumber and phone."));
        }
        else if (memberId is not null && !MemberId.IsWellFormed(memberId))
        {
            errors.Add(new BatchError(row.Row, "memberId", "member_id_invalid", "A member id is M and 12 letters and digits."));
        }
        else if (card is not null && CardNumber.Parse(card) is { IsSuccess: false } badCard)
        {
            errors.Add(From(row.Row, badCard.Error));
        }
        else if (phone is not null && PhoneNumber.Parse(phone) is { IsSuccess: false } badPhone)
        {
            errors.Add(From(row.Row, badPhone.Error));
        }

        var amount = Amount(row.Row, "amount", Cell("amount"), long.MaxValue, errors);
        if (Cell("amount") is null)
        {
            errors.Add(new BatchError(row.Row, "amount", "amount_invalid", "amount (fen) is required."));
        }
        else if (errors.Count == 0 && PointsOperations.TopUp(amount, context.Rules.TopUp, context.StoreId, principalId, context.Today, context.Org) is { IsSuccess: false } refused)
        {
            errors.Add(From(row.Row, refused.Error));
        }

        long? bonus = Cell("bonus") is null ? null : Amount(row.Row, "bonus", Cell("bonus"), MaxOpening, errors);
        return errors.Count > 0
            ? (null, errors)
            : (new TopUpImportRow(row.Row, memberId, card is null ? null : CardNumber.Parse(card).Value!.Value, phone is null ? null : PhoneNumber.Parse(phone).Value!.Value, amount, bonus), errors);
    }

    /// <summary>A cell's trimmed text by column name; null when the column is absent or the cell empty.</summary>
    private static string? CellOf(BatchFileRow row, Dictionary<string, int> columns, string name) =>
        columns.TryGetValue(name, out var i) && i < row.Cells.Count && row.Cells[i].Trim() is { Length: > 0 } v ? v : null;

    /// <summary>Errors for every cell a spreadsheet would run as a formula (all the row's errors when there is one).</summary>
    private static List<BatchError> Formulas(BatchFileRow row, Dictionary<string, int> columns)
    {
        ArgumentNullException.ThrowIfNull(row);
        var errors = new List<BatchError>();
        foreach (var (name, i) in columns)
        {
            if (i < row.Cells.Count && (row.Formulas.Contains(i) || BatchFile.LooksLikeFormula(row.Cells[i])))
            {
                errors.Add(new BatchError(row.Row, name, "formula_injection", "The cell holds (or starts like) a spreadsheet formula; enter plain values."));
            }
        }

        return errors;
    }

    /// <summary>A birthday as written (yyyy-MM-dd), or an XLSX date cell's serial number turned into one.</summary>
    private static string? Birthday(string? text) =>
        text is { Length: >= 1 and <= 5 } && text.All(char.IsAsciiDigit)
            ? DateOnly.FromDateTime(DateTime.FromOADate(int.Parse(text, CultureInfo.InvariantCulture))).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)
            : text;

    private static long Amount(int row, string column, string? text, long max, List<BatchError> errors)
    {
        if (text is null)
        {
            return 0;
        }

        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value > max)
        {
            errors.Add(new BatchError(row, column, column == "points" ? "points_invalid" : "amount_invalid",
                $"{column} is a whole number of {(column == "points" ? "points" : "fen")}{(max < long.MaxValue ? $" up to {max}" : string.Empty)}."));
            return 0;
        }

        return value;
    }

    private static BatchError From(int row, DomainError error) => new(row, error.Field, error.Code, error.Message);

    private static string Truncate(string text) => text.Length > 40 ? text[..40] + "…" : text;
}
