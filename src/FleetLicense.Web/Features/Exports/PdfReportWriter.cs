using System.Globalization;
using PdfSharp;
using PdfSharp.Drawing;
using PdfSharp.Pdf;

namespace FleetLicense.Web.Features.Exports;

/// <summary>A horizontal bar chart on the summary page; bars are scaled to the largest value.</summary>
public sealed record PdfChart(string Title, IReadOnlyList<KeyValuePair<string, long>> Bars);

/// <summary>
/// A table that starts on a new page. <paramref name="RelativeWidths"/> has one positive weight per column.
/// At most <paramref name="MaxRows"/> rows are read from <paramref name="Rows"/>.
/// </summary>
public sealed record PdfTable(
    string Title,
    IReadOnlyList<string> Columns,
    IReadOnlyList<double> RelativeWidths,
    IAsyncEnumerable<IReadOnlyList<string?>> Rows,
    int MaxRows);

/// <summary>
/// The content of a PDF report. <paramref name="AsOf"/> is null for live data.
/// <paramref name="GeneratedAt"/> is the only clock value written to the document.
/// </summary>
public sealed record PdfReport(
    string Title,
    string Filters,
    DateTimeOffset? AsOf,
    DateTimeOffset GeneratedAt,
    IReadOnlyList<KeyValuePair<string, string>> Kpis,
    IReadOnlyList<PdfChart> Charts,
    IReadOnlyList<PdfTable> Tables,
    string? Footnote);

/// <summary>Renders a <see cref="PdfReport"/> as an A4 portrait PDF with PDFsharp.</summary>
public static class PdfReportWriter
{
    /// <summary>
    /// Writes the report to <paramref name="output"/> (which is left open) and returns the number of table
    /// rows written. Reports the running row count every 1,000 rows; cancellation is checked between rows.
    /// </summary>
    /// <remarks>
    /// The whole document is built in memory (bounded by each table's MaxRows) and copied to
    /// <paramref name="output"/> asynchronously at the end, so <paramref name="output"/> may be a
    /// non-seekable stream such as an ASP.NET Core response body.
    /// </remarks>
    public static async Task<long> WriteAsync(
        PdfReport report, Stream output, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(output);
        if (!output.CanWrite)
        {
            throw new ArgumentException("The output stream must be writable.", nameof(output));
        }

        foreach (var table in report.Tables)
        {
            Validate(table);
        }

        cancellationToken.ThrowIfCancellationRequested();
        DejaVuFontResolver.Register();

        using var document = new PdfDocument();
        document.Info.Title = report.Title;
        document.Info.Creator = "FleetLicense";
        // PdfDocument's constructor stamps DateTime.Now (local time) here; use the caller's instant.
        // A UTC DateTime is written as "+00'00'" whatever the server's time zone.
        document.Info.CreationDate = report.GeneratedAt.UtcDateTime;

        long rowsWritten = 0;
        using (var composer = new PdfReportComposer(document, report))
        {
            composer.WriteSummary();
            foreach (var table in report.Tables)
            {
                rowsWritten = await composer
                    .WriteTableAsync(table, rowsWritten, progress, cancellationToken)
                    .ConfigureAwait(false);
            }

            composer.WriteFooters();
        }

        // PdfDocument.Save writes synchronously and reads Stream.Position for the cross-reference table,
        // so it cannot target a response body directly: serialize into memory, then copy asynchronously.
        using var buffer = new MemoryStream();
        document.Save(buffer);
        buffer.Position = 0;
        await buffer.CopyToAsync(output, cancellationToken).ConfigureAwait(false);
        return rowsWritten;
    }

    static void Validate(PdfTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        if (table.Columns.Count == 0)
        {
            throw new ArgumentException($"Table '{table.Title}' has no columns.", nameof(table));
        }

        if (table.RelativeWidths.Count != table.Columns.Count)
        {
            throw new ArgumentException(
                $"Table '{table.Title}' has {table.Columns.Count} columns but {table.RelativeWidths.Count} relative widths.",
                nameof(table));
        }

        if (table.RelativeWidths.Any(w => !double.IsFinite(w) || w <= 0))
        {
            throw new ArgumentException($"Table '{table.Title}' has a relative width that is not a positive number.", nameof(table));
        }

        if (table.MaxRows < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(table), table.MaxRows, $"Table '{table.Title}' has a negative MaxRows.");
        }
    }
}

/// <summary>
/// Lays out one report: a top-down cursor over A4 pages, plus a final pass that adds the footers
/// once the page count is known.
/// </summary>
sealed class PdfReportComposer : IDisposable
{
    const int ProgressInterval = 1_000;
    const string Ellipsis = "…";

    // Geometry in points (1/72 inch).
    const double Margin = 40;
    const double FooterHeight = 44; // Band at the bottom of every page, below the content area.
    const int KpiColumns = 4;
    const double KpiGap = 8;
    const double KpiHeight = 46;
    const double BarRowHeight = 16;
    const double BarThickness = 9;
    const double SectionGap = 18;
    const double HeaderRowHeight = 18;
    const double RowHeight = 13;
    const double CellPadding = 3;

    // Longest text measured for a single line; anything longer cannot fit an A4 line anyway and is cut first,
    // so one pathological cell cannot make truncation expensive.
    const int MaxMeasuredLength = 1_000;

    static readonly XColor Accent = XColor.FromArgb(0x15, 0x65, 0xC0);
    static readonly XSolidBrush AccentBrush = new(Accent);
    static readonly XSolidBrush TextBrush = new(XColor.FromArgb(0x21, 0x21, 0x21));
    static readonly XSolidBrush MutedBrush = new(XColor.FromArgb(0x61, 0x61, 0x61));
    static readonly XSolidBrush TileBrush = new(XColor.FromArgb(0xF4, 0xF7, 0xFB));
    static readonly XSolidBrush HeaderBrush = new(XColor.FromArgb(0xE3, 0xEC, 0xF7));
    static readonly XSolidBrush ZebraBrush = new(XColor.FromArgb(0xF6, 0xF8, 0xFA));
    static readonly XPen AccentPen = new(Accent, 0.75);
    static readonly XPen RulePen = new(XColor.FromArgb(0xBD, 0xBD, 0xBD), 0.5);

    readonly PdfDocument _document;
    readonly PdfReport _report;
    readonly string _asOfText;
    readonly string _generatedText;

    readonly XFont _titleFont = CreateFont(18, bold: true);
    readonly XFont _subtitleFont = CreateFont(10, bold: false);
    readonly XFont _filtersFont = CreateFont(9, bold: false);
    readonly XFont _sectionFont = CreateFont(12, bold: true);
    readonly XFont _kpiLabelFont = CreateFont(7.5, bold: false);
    // KPI values shrink to the first size that fits the tile before they are truncated.
    readonly XFont[] _kpiValueFonts = [CreateFont(16, bold: true), CreateFont(13, bold: true), CreateFont(11, bold: true)];
    readonly XFont _chartFont = CreateFont(8.5, bold: false);
    readonly XFont _cellFont = CreateFont(7.5, bold: false);
    readonly XFont _headerFont = CreateFont(7.5, bold: true);
    readonly XFont _noteFont = CreateFont(8, bold: false);
    readonly XFont _footerFont = CreateFont(7, bold: false);
    readonly XFont _footerBoldFont = CreateFont(7, bold: true);

    XGraphics? _gfx;
    PdfPage? _page;
    double _y;

    public PdfReportComposer(PdfDocument document, PdfReport report)
    {
        _document = document;
        _report = report;
        _asOfText = report.AsOf is { } asOf ? $"As of {FormatInstant(asOf)}" : $"Live state at {FormatInstant(report.GeneratedAt)}";
        _generatedText = $"Generated {FormatInstant(report.GeneratedAt)}";
    }

    XGraphics Gfx => _gfx ?? throw new InvalidOperationException("No page has been started.");

    double ContentWidth => _page!.Width.Point - 2 * Margin;

    double ContentBottom => _page!.Height.Point - FooterHeight;

    public void WriteSummary()
    {
        NewPage();

        Gfx.DrawRectangle(AccentBrush, Margin, _y, ContentWidth, 3);
        _y += 12;
        foreach (var line in Wrap(Gfx, _report.Title, _titleFont, ContentWidth, maxLines: 2))
        {
            DrawLine(line, _titleFont, TextBrush);
        }

        _y += 4;
        DrawLine(_asOfText, _subtitleFont, TextBrush);
        _y += 2;
        foreach (var line in Wrap(Gfx, FiltersText(), _filtersFont, ContentWidth, maxLines: 3))
        {
            DrawLine(line, _filtersFont, MutedBrush);
        }

        _y += 14;
        WriteKpis();
        foreach (var chart in _report.Charts)
        {
            WriteChart(chart);
        }

        // Each line of the footnote is a paragraph of its own, word-wrapped to the page width.
        foreach (var paragraph in _report.Footnote?.Split('\n') ?? [])
        {
            foreach (var line in Wrap(Gfx, paragraph, _noteFont, ContentWidth, maxLines: 10))
            {
                EnsureSpace(_noteFont.GetHeight());
                DrawLine(line, _noteFont, MutedBrush);
            }
        }
    }

    public async Task<long> WriteTableAsync(
        PdfTable table, long rowsSoFar, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        NewPage();
        var (columnX, columnWidths) = ColumnLayout(table);
        WriteSectionTitle(table.Title, continued: false);
        DrawHeaderRow(table, columnX, columnWidths);

        long written = 0;
        var moreRows = false;
        await using var rows = table.Rows.WithCancellation(cancellationToken).ConfigureAwait(false).GetAsyncEnumerator();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!await rows.MoveNextAsync())
            {
                break;
            }

            // Reading one row past the limit is how we learn that the table was cut.
            if (written == table.MaxRows)
            {
                moreRows = true;
                break;
            }

            if (_y + RowHeight > ContentBottom)
            {
                DrawTableBottomRule();
                NewPage();
                WriteSectionTitle(table.Title, continued: true);
                DrawHeaderRow(table, columnX, columnWidths);
            }

            DrawRow(rows.Current, shaded: written % 2 == 1, columnX, columnWidths);
            written++;
            rowsSoFar++;
            if (rowsSoFar % ProgressInterval == 0)
            {
                progress?.Report(rowsSoFar);
            }
        }

        DrawTableBottomRule();
        if (written == 0)
        {
            WriteNote("No rows.");
        }

        if (moreRows)
        {
            WriteNote(string.Create(
                CultureInfo.InvariantCulture,
                $"Showing the first {written:N0} rows; the full list is in the CSV or XLSX export."));
        }

        return rowsSoFar;
    }

    /// <summary>Adds the footer to every page; "Page X of Y" needs the final page count.</summary>
    public void WriteFooters()
    {
        EndPage();
        var pageCount = _document.PageCount;
        for (var i = 0; i < pageCount; i++)
        {
            var page = _document.Pages[i];
            using var gfx = XGraphics.FromPdfPage(page, XGraphicsPdfPageOptions.Append);
            DrawFooter(gfx, page, i + 1, pageCount);
        }
    }

    public void Dispose() => EndPage();

    void WriteKpis()
    {
        var kpis = _report.Kpis;
        if (kpis.Count == 0)
        {
            return;
        }

        var tileWidth = (ContentWidth - (KpiColumns - 1) * KpiGap) / KpiColumns;
        var textWidth = tileWidth - 16;
        for (var i = 0; i < kpis.Count; i++)
        {
            var column = i % KpiColumns;
            if (column == 0)
            {
                if (i > 0)
                {
                    _y += KpiHeight + KpiGap;
                }

                EnsureSpace(KpiHeight);
            }

            var x = Margin + column * (tileWidth + KpiGap);
            Gfx.DrawRectangle(TileBrush, x, _y, tileWidth, KpiHeight);
            Gfx.DrawRectangle(AccentBrush, x, _y, 2.5, KpiHeight);
            DrawText(Fit(Gfx, kpis[i].Key, _kpiLabelFont, textWidth), _kpiLabelFont, MutedBrush,
                new XRect(x + 10, _y + 8, textWidth, _kpiLabelFont.GetHeight()), XStringFormats.TopLeft);
            var value = SingleLine(kpis[i].Value);
            var valueFont = _kpiValueFonts.FirstOrDefault(f => Gfx.MeasureString(value, f).Width <= textWidth) ?? _kpiValueFonts[^1];
            // Bottom-aligned so values of different sizes share a baseline across the row.
            DrawText(Fit(Gfx, value, valueFont, textWidth), valueFont, TextBrush,
                new XRect(x + 10, _y + 18, textWidth, KpiHeight - 18 - 6), XStringFormats.BottomLeft);
        }

        _y += KpiHeight + SectionGap + 4;
    }

    void WriteChart(PdfChart chart)
    {
        EnsureSpace(_sectionFont.GetHeight() + 6 + BarRowHeight);
        WriteSectionTitle(chart.Title, continued: false);
        if (chart.Bars.Count == 0)
        {
            WriteNote("No data.");
            _y += SectionGap;
            return;
        }

        var values = chart.Bars.Select(b => b.Value.ToString("N0", CultureInfo.InvariantCulture)).ToArray();
        var valueWidth = values.Max(v => Gfx.MeasureString(v, _chartFont).Width);
        var labelWidth = ContentWidth * 0.28;
        var barLeft = Margin + labelWidth + 8;
        var maxBarLength = Math.Max(0, ContentWidth - labelWidth - 8 - 6 - valueWidth);
        // Negative values draw no bar; an all-zero (or empty) chart has max 0 and draws no bars at all.
        var max = chart.Bars.Max(b => Math.Max(b.Value, 0L));

        var axisTop = _y;
        for (var i = 0; i < chart.Bars.Count; i++)
        {
            if (_y + BarRowHeight > ContentBottom)
            {
                Gfx.DrawLine(RulePen, barLeft, axisTop, barLeft, _y);
                NewPage();
                WriteSectionTitle(chart.Title, continued: true);
                axisTop = _y;
            }

            var row = new XRect(Margin, _y, labelWidth, BarRowHeight);
            DrawText(Fit(Gfx, chart.Bars[i].Key, _chartFont, labelWidth), _chartFont, TextBrush, row, XStringFormats.CenterLeft);

            var length = max > 0 ? maxBarLength * Math.Max(chart.Bars[i].Value, 0L) / max : 0;
            if (length > 0)
            {
                Gfx.DrawRectangle(AccentBrush, barLeft, _y + (BarRowHeight - BarThickness) / 2, length, BarThickness);
            }

            DrawText(values[i], _chartFont, TextBrush,
                new XRect(barLeft + length + 4, _y, valueWidth + 2, BarRowHeight), XStringFormats.CenterLeft);
            _y += BarRowHeight;
        }

        Gfx.DrawLine(RulePen, barLeft, axisTop, barLeft, _y);
        _y += SectionGap;
    }

    void WriteSectionTitle(string title, bool continued)
    {
        var text = continued ? $"{title} (continued)" : title;
        DrawLine(Fit(Gfx, text, _sectionFont, ContentWidth), _sectionFont, AccentBrush);
        _y += 6;
    }

    void WriteNote(string text)
    {
        _y += 6;
        EnsureSpace(_noteFont.GetHeight());
        DrawLine(Fit(Gfx, text, _noteFont, ContentWidth), _noteFont, MutedBrush);
    }

    void DrawHeaderRow(PdfTable table, double[] columnX, double[] columnWidths)
    {
        Gfx.DrawRectangle(HeaderBrush, Margin, _y, ContentWidth, HeaderRowHeight);
        for (var c = 0; c < columnX.Length; c++)
        {
            DrawCell(table.Columns[c], _headerFont, columnX[c], columnWidths[c], HeaderRowHeight);
        }

        Gfx.DrawLine(AccentPen, Margin, _y + HeaderRowHeight, Margin + ContentWidth, _y + HeaderRowHeight);
        _y += HeaderRowHeight;
    }

    void DrawRow(IReadOnlyList<string?>? cells, bool shaded, double[] columnX, double[] columnWidths)
    {
        if (shaded)
        {
            Gfx.DrawRectangle(ZebraBrush, Margin, _y, ContentWidth, RowHeight);
        }

        // Short rows leave trailing cells empty; extra cells are ignored.
        var count = Math.Min(cells?.Count ?? 0, columnX.Length);
        for (var c = 0; c < count; c++)
        {
            DrawCell(cells![c], _cellFont, columnX[c], columnWidths[c], RowHeight);
        }

        _y += RowHeight;
    }

    void DrawCell(string? text, XFont font, double x, double width, double height)
    {
        var innerWidth = width - 2 * CellPadding;
        var fitted = Fit(Gfx, text, font, innerWidth);
        if (fitted.Length > 0)
        {
            DrawText(fitted, font, TextBrush, new XRect(x + CellPadding, _y, innerWidth, height), XStringFormats.CenterLeft);
        }
    }

    void DrawTableBottomRule() => Gfx.DrawLine(RulePen, Margin, _y, Margin + ContentWidth, _y);

    void DrawFooter(XGraphics gfx, PdfPage page, int pageNumber, int pageCount)
    {
        var left = Margin;
        var width = page.Width.Point - 2 * Margin;
        var top = page.Height.Point - FooterHeight + 12;
        gfx.DrawLine(RulePen, left, top, left + width, top);

        var lineHeight = _footerFont.GetHeight() + 1;
        var pageText = string.Create(CultureInfo.InvariantCulture, $"Page {pageNumber} of {pageCount}");
        DrawFooterLine(gfx, left, top + 4, width, $"{_report.Title} · {_asOfText}", _footerBoldFont, pageText);
        DrawFooterLine(gfx, left, top + 4 + lineHeight, width, FiltersText(), _footerFont, _generatedText);
    }

    void DrawFooterLine(XGraphics gfx, double left, double top, double width, string leftText, XFont leftFont, string rightText)
    {
        var rightWidth = gfx.MeasureString(rightText, _footerFont).Width;
        var leftWidth = width - rightWidth - 12;
        var height = _footerFont.GetHeight();
        gfx.DrawString(Fit(gfx, leftText, leftFont, leftWidth), leftFont, MutedBrush,
            new XRect(left, top, leftWidth, height), XStringFormats.TopLeft);
        gfx.DrawString(rightText, _footerFont, MutedBrush,
            new XRect(left + width - rightWidth, top, rightWidth, height), XStringFormats.TopLeft);
    }

    (double[] X, double[] Widths) ColumnLayout(PdfTable table)
    {
        var total = table.RelativeWidths.Sum();
        var widths = table.RelativeWidths.Select(w => ContentWidth * w / total).ToArray();
        var x = new double[widths.Length];
        for (var c = 0; c < widths.Length; c++)
        {
            x[c] = c == 0 ? Margin : x[c - 1] + widths[c - 1];
        }

        return (x, widths);
    }

    string FiltersText() => string.IsNullOrWhiteSpace(_report.Filters) ? "Filters: none" : $"Filters: {_report.Filters}";

    /// <summary>Draws one line of text at the cursor and moves the cursor below it.</summary>
    void DrawLine(string text, XFont font, XBrush brush)
    {
        var height = font.GetHeight();
        DrawText(text, font, brush, new XRect(Margin, _y, ContentWidth, height), XStringFormats.TopLeft);
        _y += height;
    }

    void DrawText(string text, XFont font, XBrush brush, XRect rect, XStringFormat format) =>
        Gfx.DrawString(text, font, brush, rect, format);

    void EnsureSpace(double height)
    {
        if (_y + height > ContentBottom)
        {
            NewPage();
        }
    }

    void NewPage()
    {
        EndPage();
        _page = _document.AddPage();
        _page.Size = PageSize.A4;
        _page.Orientation = PageOrientation.Portrait;
        _gfx = XGraphics.FromPdfPage(_page);
        _y = Margin;
    }

    // A page's XGraphics must be disposed before the page gets another one (the footer pass).
    void EndPage()
    {
        _gfx?.Dispose();
        _gfx = null;
    }

    static XFont CreateFont(double size, bool bold) =>
        // Unicode encoding embeds a subset with a ToUnicode map, so Cyrillic and other non-Latin text
        // renders and can be extracted (copy and paste, search, tests).
        new(DejaVuFontResolver.FamilyName, size, bold ? XFontStyleEx.Bold : XFontStyleEx.Regular, XPdfFontOptions.UnicodeDefault);

    static string FormatInstant(DateTimeOffset instant) =>
        instant.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>Returns <paramref name="text"/> on one line, cut with an ellipsis if wider than <paramref name="maxWidth"/>.</summary>
    static string Fit(XGraphics gfx, string? text, XFont font, double maxWidth)
    {
        var line = SingleLine(text);
        var cut = line.Length > MaxMeasuredLength;
        if (cut)
        {
            line = line[..(char.IsHighSurrogate(line[MaxMeasuredLength - 1]) ? MaxMeasuredLength - 1 : MaxMeasuredLength)];
        }

        if (line.Length == 0 || (!cut && gfx.MeasureString(line, font).Width <= maxWidth))
        {
            return line;
        }

        // Binary search for the longest prefix that fits with the ellipsis, cutting only between text elements
        // so surrogate pairs and combining sequences stay intact.
        var starts = StringInfo.ParseCombiningCharacters(line);
        int low = 0, high = starts.Length - 1;
        while (low < high)
        {
            var mid = (low + high + 1) / 2;
            if (gfx.MeasureString(WithEllipsis(line, starts[mid]), font).Width <= maxWidth)
            {
                low = mid;
            }
            else
            {
                high = mid - 1;
            }
        }

        if (low > 0)
        {
            return WithEllipsis(line, starts[low]);
        }

        return gfx.MeasureString(Ellipsis, font).Width <= maxWidth ? Ellipsis : "";
    }

    static string WithEllipsis(string text, int length) => string.Concat(text.AsSpan(0, length).TrimEnd(), Ellipsis);

    /// <summary>Word-wraps <paramref name="text"/> into at most <paramref name="maxLines"/> lines; the last one is cut with an ellipsis.</summary>
    static List<string> Wrap(XGraphics gfx, string text, XFont font, double width, int maxLines)
    {
        var words = SingleLine(text).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var lines = new List<string>();
        var next = 0;
        while (next < words.Length && lines.Count < maxLines - 1)
        {
            var line = words[next++];
            while (next < words.Length && gfx.MeasureString($"{line} {words[next]}", font).Width <= width)
            {
                line = $"{line} {words[next++]}";
            }

            lines.Add(Fit(gfx, line, font, width)); // Only shortens a single word wider than the line.
        }

        if (next < words.Length)
        {
            lines.Add(Fit(gfx, string.Join(' ', words[next..]), font, width));
        }

        return lines;
    }

    /// <summary>Turns line breaks, tabs and other control characters into spaces; null becomes empty.</summary>
    static string SingleLine(string? text)
    {
        if (string.IsNullOrEmpty(text) || !text.Any(char.IsControl))
        {
            return text ?? "";
        }

        return string.Create(text.Length, text, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = char.IsControl(source[i]) ? ' ' : source[i];
            }
        });
    }
}
