using System.Globalization;

namespace FleetLicense.Web.Infrastructure;

/// <summary>CSV as the downloads write it: RFC 4180 (CRLF, fields quoted when they must be), UTF-8.</summary>
public static class CsvText
{
    /// <summary>
    /// A text field: quoted when it holds a comma, quote or line break. A value starting with = + - @, a tab or a
    /// carriage return gets an apostrophe in front, so a spreadsheet opening the file does not run it as a formula
    /// (OWASP CSV injection); one starting with an apostrophe gets one more, so the guard is undone exactly by
    /// dropping one leading apostrophe (what recomputing an audit row's hash from the file does).
    /// </summary>
    public static string Field(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "";
        }

        var safe = value[0] is '=' or '+' or '-' or '@' or '\t' or '\r' or '\'' ? "'" + value : value;
        return safe.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + safe.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : safe;
    }

    /// <summary>A number, in the invariant culture; written as it is (a negative number is not a formula).</summary>
    public static string Field(long? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "";

    /// <summary>An instant in UTC with microseconds, as PostgreSQL keeps it: <c>2026-06-30T12:00:00.000000Z</c>.</summary>
    public static string Field(DateTimeOffset? value) => value?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture) ?? "";
}
