using System.Globalization;

namespace Loyalty.Functions.Hosting.Timers;

/// <summary>
/// An NCRONTAB expression as the Functions timer trigger takes it: six fields, <c>{second} {minute} {hour} {day}
/// {month} {day-of-week}</c>, each <c>*</c>, a value, a range <c>a-b</c>, a step <c>*/n</c> or <c>a-b/n</c>, or a
/// comma list of those; months and weekdays may be given by three-letter names; Sunday is 0 (7 is accepted).
/// When both day and day-of-week are restricted, a time must match both.
/// </summary>
public sealed class CronSchedule
{
    private static readonly string[] MonthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
    private static readonly string[] DayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

    private readonly bool[] _seconds;
    private readonly bool[] _minutes;
    private readonly bool[] _hours;
    private readonly bool[] _days;
    private readonly bool[] _months;
    private readonly bool[] _weekdays;

    private CronSchedule(string expression, bool[][] fields)
    {
        Expression = expression;
        (_seconds, _minutes, _hours, _days, _months, _weekdays) = (fields[0], fields[1], fields[2], fields[3], fields[4], fields[5]);
    }

    /// <summary>The expression as given.</summary>
    public string Expression { get; }

    /// <summary>Parses an expression; throws <see cref="FormatException"/> with the offending field.</summary>
    public static CronSchedule Parse(string expression)
    {
        ArgumentNullException.ThrowIfNull(expression);
        var parts = expression.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 6)
        {
            throw new FormatException($"'{expression}' needs six fields: second minute hour day month day-of-week.");
        }

        var weekdays = ParseField(parts[5], 0, 7, DayNames, "day-of-week");
        weekdays[0] |= weekdays[7];
        return new CronSchedule(expression,
        [
            ParseField(parts[0], 0, 59, null, "second"),
            ParseField(parts[1], 0, 59, null, "minute"),
            ParseField(parts[2], 0, 23, null, "hour"),
            ParseField(parts[3], 1, 31, null, "day"),
            ParseField(parts[4], 1, 12, MonthNames, "month"),
            weekdays,
        ]);
    }

    /// <summary>True when <paramref name="expression"/> parses.</summary>
    public static bool IsValid(string expression)
    {
        try
        {
            Parse(expression);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>The first occurrence strictly after <paramref name="after"/>, in the same offset; null if none within 5 years.</summary>
    public DateTimeOffset? GetNextOccurrence(DateTimeOffset after)
    {
        var start = after.AddTicks(-(after.Ticks % TimeSpan.TicksPerSecond)).AddSeconds(1);
        var day = start.Date;
        for (var i = 0; i < 366 * 5; i++, day = day.AddDays(1))
        {
            if (!_months[day.Month] || !_days[day.Day] || !_weekdays[(int)day.DayOfWeek])
            {
                continue;
            }

            var sameDay = day == start.Date;
            for (var h = sameDay ? start.Hour : 0; h < 24; h++)
            {
                if (!_hours[h])
                {
                    continue;
                }

                var sameHour = sameDay && h == start.Hour;
                for (var m = sameHour ? start.Minute : 0; m < 60; m++)
                {
                    if (!_minutes[m])
                    {
                        continue;
                    }

                    var sameMinute = sameHour && m == start.Minute;
                    for (var s = sameMinute ? start.Second : 0; s < 60; s++)
                    {
                        if (_seconds[s])
                        {
                            return new DateTimeOffset(day.Year, day.Month, day.Day, h, m, s, after.Offset);
                        }
                    }
                }
            }
        }

        return null;
    }

    private static bool[] ParseField(string field, int min, int max, string[]? names, string label)
    {
        var set = new bool[max + 1];
        foreach (var item in field.Split(','))
        {
            var (range, step) = item.Split('/') switch
            {
                [var r] => (r, 1),
                [var r, var s] when int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 => (r, n),
                _ => throw new FormatException($"Bad step in {label} field '{field}'."),
            };

            int from, to;
            if (range == "*")
            {
                (from, to) = (min, max);
            }
            else if (range.Split('-') is [var a, var b])
            {
                (from, to) = (Value(a, min, max, names, label), Value(b, min, max, names, label));
            }
            else
            {
                from = Value(range, min, max, names, label);
                to = item.Contains('/', StringComparison.Ordinal) ? max : from;
            }

            if (from > to)
            {
                throw new FormatException($"Range {from}-{to} runs backwards in {label} field '{field}'.");
            }

            for (var v = from; v <= to; v += step)
            {
                set[v] = true;
            }
        }

        return set;
    }

    private static int Value(string text, int min, int max, string[]? names, string label)
    {
        if (names is not null)
        {
            var index = Array.IndexOf(names, text.ToUpperInvariant());
            if (index >= 0)
            {
                return index + (names == MonthNames ? 1 : 0);
            }
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw new FormatException($"'{text}' is not a valid {label} ({min}-{max}).");
        }

        return value;
    }
}
