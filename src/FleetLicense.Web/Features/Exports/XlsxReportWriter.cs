using System.Drawing;
using SpreadCheetah;
using SpreadCheetah.Styling;
using SpreadCheetah.Worksheets;

namespace FleetLicense.Web.Features.Exports;

/// <summary>
/// A report as an Excel workbook: a cover sheet (what, as of when, which filters, who, and how to verify), then one
/// sheet per table with typed cells (numbers as numbers, instants as UTC dates), a frozen, styled header and an
/// autofilter. SpreadCheetah writes rows as they come, so a million rows take flat memory.
/// </summary>
public static class XlsxReportWriter
{
    public static async Task<long> WriteAsync(ReportProvenance provenance, IReadOnlyList<ReportTable> tables, Stream output, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        await using var workbook = await Spreadsheet.CreateNewAsync(output, new SpreadCheetahOptions
        {
            DocumentProperties = new() { Title = provenance.Title, Author = "FleetLicense", Subject = $"Export {provenance.ExportId}" },
        }, cancellationToken);
        var bold = workbook.AddStyle(new Style { Font = { Bold = true } });
        var header = workbook.AddStyle(new Style { Font = { Bold = true, Color = Color.White }, Fill = { Color = Color.FromArgb(0x15, 0x65, 0xC0) } });

        var cover = new WorksheetOptions();
        cover.Column(1).Width = 16;
        cover.Column(2).Width = 90;
        await workbook.StartWorksheetAsync("Cover", cover, cancellationToken);
        await workbook.AddRowAsync([new Cell(provenance.Title, bold)], cancellationToken);
        foreach (var (label, value) in ExportCover.Lines(provenance, tables))
        {
            await workbook.AddRowAsync([new Cell(label, bold), new Cell(value)], cancellationToken);
        }

        long count = 0;
        foreach (var table in tables)
        {
            var options = new WorksheetOptions { FrozenRows = 1, AutoFilter = new AutoFilterOptions($"A1:{ColumnLetters(table.Columns.Count)}1") };
            for (var i = 0; i < table.Columns.Count; i++)
            {
                options.Column(i + 1).Width = table.Columns[i].Width + 2;
            }

            await workbook.StartWorksheetAsync(SheetName(table.Title), options, cancellationToken);
            await workbook.AddHeaderRowAsync([.. table.Columns.Select(c => c.Name)], header, cancellationToken);
            var cells = new DataCell[table.Columns.Count];
            await foreach (var row in table.Rows.WithCancellation(cancellationToken))
            {
                for (var i = 0; i < cells.Length; i++)
                {
                    cells[i] = row[i] switch
                    {
                        null => default,
                        long number => new DataCell(number),
                        DateTimeOffset instant => new DataCell(instant.UtcDateTime),
                        var text => new DataCell((string)text),
                    };
                }

                await workbook.AddRowAsync(cells, cancellationToken);
                ExportProgress.Count(ref count, progress);
            }
        }

        await workbook.FinishAsync(cancellationToken);
        progress?.Report(count);
        return count;
    }

    /// <summary>Excel's column name for a 1-based column number: 1 → A, 27 → AA.</summary>
    private static string ColumnLetters(int column)
    {
        var letters = "";
        for (; column > 0; column = (column - 1) / 26)
        {
            letters = (char)('A' + ((column - 1) % 26)) + letters;
        }

        return letters;
    }

    /// <summary>Excel refuses sheet names over 31 characters or with any of []:*?/\.</summary>
    private static string SheetName(string title)
    {
        var name = new string([.. title.Select(c => "[]:*?/\\".Contains(c) ? ' ' : c)]);
        return name.Length <= 31 ? name : name[..31];
    }
}

/// <summary>The lines that say where a file's numbers come from: the XLSX cover sheet and the PDF's summary page.</summary>
public static class ExportCover
{
    public static IEnumerable<(string Label, string Value)> Lines(ReportProvenance provenance, IReadOnlyList<ReportTable> tables)
    {
        yield return ("Export", provenance.ExportId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        yield return ("As of", provenance.AsOfText);
        yield return ("Filters", provenance.FiltersText);
        yield return ("Generated", ReportProvenance.Instant(provenance.GeneratedAt));
        yield return ("Requested by", provenance.RequestedBy);
        yield return ("Contents", string.Join(", ", tables.Select(t => t.Title)));
        yield return ("Verify", "Upload this file on the Exports page (Verify a file), or offline: openssl dgst -sha256 -verify key.pem -signature FILE.sig FILE");
    }
}
