using System.Text;
using FleetLicense.Web.Infrastructure;

namespace FleetLicense.Web.Features.Exports;

/// <summary>A report table as CSV: RFC 4180, UTF-8, CRLF, a header line of the column names; a BOM first when asked, for Excel.</summary>
public static class CsvReportWriter
{
    /// <summary>Writes the table; returns its number of rows, reporting the count every <see cref="ExportProgress.Every"/> rows.</summary>
    public static async Task<long> WriteAsync(ReportTable table, Stream output, bool byteOrderMark, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        await using var writer = new StreamWriter(output, new UTF8Encoding(byteOrderMark), bufferSize: 64 * 1024, leaveOpen: true) { NewLine = "\r\n" };
        await writer.WriteLineAsync(string.Join(',', table.Columns.Select(c => c.Name)));
        var fields = new string[table.Columns.Count];
        long count = 0;
        await foreach (var row in table.Rows.WithCancellation(cancellationToken))
        {
            for (var i = 0; i < fields.Length; i++)
            {
                fields[i] = row[i] switch
                {
                    null => "",
                    long number => CsvText.Field(number),
                    DateTimeOffset instant => CsvText.Field(instant),
                    var text => CsvText.Field((string)text),
                };
            }

            await writer.WriteLineAsync(string.Join(',', fields));
            ExportProgress.Count(ref count, progress);
        }

        progress?.Report(count);
        return count;
    }
}

/// <summary>How often the writers say how far they are: the Exports page's row count and the job's progress.</summary>
public static class ExportProgress
{
    public const int Every = 10_000;

    public static void Count(ref long count, IProgress<long>? progress)
    {
        if (++count % Every == 0)
        {
            progress?.Report(count);
        }
    }
}
