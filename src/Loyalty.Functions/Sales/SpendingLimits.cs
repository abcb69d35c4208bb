using Azure.Data.Tables;
using System.Globalization;
using Loyalty.Domain.Common;
using Loyalty.Domain.Members;
using Loyalty.Storage.Members;
using Loyalty.Storage.Tables;

namespace Loyalty.Functions.Sales;

/// <summary>
/// Daily and monthly stored-value limits of supplementary cards (附属卡): the card row keeps what it spent today and
/// this month (chain time zone), and is updated with If-Match in the sale's transaction.
/// </summary>
internal static class SpendingLimits
{
    public static async Task<Result<TableTransactionAction>> ApplyAsync(MemberStore members, string memberId, MemberCard card, long amount, DateOnly today, CancellationToken cancellationToken)
    {
        var row = await members.GetCardRowAsync(memberId, card.CardNumber, cancellationToken)
            ?? throw new InvalidOperationException("The card row vanished.");
        var day = today.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var month = today.ToString("yyyy-MM", CultureInfo.InvariantCulture);
        var spentToday = (row.GetString("SpentDay") == day ? row.GetInt64("SpentToday") : 0) ?? 0;
        var spentMonth = (row.GetString("SpentMonth") == month ? row.GetInt64("SpentThisMonth") : 0) ?? 0;
        if (card.DailyLimit is { } daily && spentToday + amount > daily)
        {
            return new DomainError("spending_limit_exceeded", $"This card may spend {daily - spentToday} more fen today.", ErrorKind.Unprocessable, "payWithStoredValue");
        }

        if (card.MonthlyLimit is { } monthly && spentMonth + amount > monthly)
        {
            return new DomainError("spending_limit_exceeded", $"This card may spend {monthly - spentMonth} more fen this month.", ErrorKind.Unprocessable, "payWithStoredValue");
        }

        row["SpentDay"] = day;
        row["SpentToday"] = spentToday + amount;
        row["SpentMonth"] = month;
        row["SpentThisMonth"] = spentMonth + amount;
        return new TableTransactionAction(TableTransactionActionType.UpdateReplace, row, row.ETag);
    }
}
