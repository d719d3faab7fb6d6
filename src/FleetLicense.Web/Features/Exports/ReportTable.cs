namespace FleetLicense.Web.Features.Exports;

/// <summary>What a column holds, so that every format writes it as what it is: XLSX as a typed cell, CSV and PDF as text.</summary>
public enum ColumnType
{
    Text,

    /// <summary>A whole number (<see cref="long"/>).</summary>
    Number,

    /// <summary>A UTC instant (<see cref="DateTimeOffset"/>).</summary>
    Instant,
}

/// <param name="Name">The CSV header and the XLSX column title: stable, for scripts that read the file.</param>
/// <param name="Type">What its values are.</param>
/// <param name="Width">The column's share of a PDF page's width and, in characters, its XLSX width.</param>
public sealed record ReportColumn(string Name, ColumnType Type, double Width);

/// <summary>
/// One table of a report: its columns and its rows, read once, in order, straight from the database. A row holds,
/// per column, a <see cref="string"/>, a <see cref="long"/> or a <see cref="DateTimeOffset"/> (by its
/// <see cref="ColumnType"/>), or null.
/// </summary>
public sealed record ReportTable(string Title, IReadOnlyList<ReportColumn> Columns, IAsyncEnumerable<object?[]> Rows)
{
    /// <summary>The position of the column named <paramref name="column"/> in each row.</summary>
    public int IndexOf(string column) => IndexOf(Columns, column);

    /// <inheritdoc cref="IndexOf(string)"/>
    public static int IndexOf(IReadOnlyList<ReportColumn> columns, string column)
    {
        for (var i = 0; i < columns.Count; i++)
        {
            if (columns[i].Name == column)
            {
                return i;
            }
        }

        throw new ArgumentException($"The report has no column \"{column}\".", nameof(column));
    }
}

/// <summary>
/// What every page and cover of an export says about where its numbers come from: the export, its filters (the
/// grid's query string), the instant it describes (<c>AsOf</c>: rebuilt from history; null, the live state at
/// <c>GeneratedAt</c>), and who asked.
/// </summary>
public sealed record ReportProvenance(long ExportId, string Title, string Filters, DateTimeOffset? AsOf, DateTimeOffset GeneratedAt, string RequestedBy)
{
    public static string Instant(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", System.Globalization.CultureInfo.InvariantCulture);

    public string AsOfText => AsOf is { } at ? Instant(at) : $"live state at {Instant(GeneratedAt)}";

    public string FiltersText => Filters.Length == 0 ? "none (the whole fleet)" : Uri.UnescapeDataString(Filters.TrimStart('?'));
}
