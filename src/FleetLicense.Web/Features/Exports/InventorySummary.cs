using System.Globalization;
using FleetLicense.Contracts;

namespace FleetLicense.Web.Features.Exports;

/// <summary>
/// The inventory as a PDF: a summary of the machines it covers (by their Windows licence status and channel), then
/// its lines, capped at <see cref="MaxTableRows"/> (a million machines are a spreadsheet's job, not paper's).
/// </summary>
public static class InventorySummary
{
    public const int MaxTableRows = 5_000;

    private static readonly string[] PrintedColumns = ["hostname", "edition", "product", "channel", "partial_key", "status", "kms_host", "last_seen"];

    /// <summary>
    /// Reads the table once: the counts and the printed lines come from the same read, so the summary and the table
    /// agree even while reports arrive.
    /// </summary>
    public static async Task<PdfReport> ReportAsync(ReportProvenance provenance, ReportTable table, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        int Column(string name) => table.Columns.Select((c, i) => (c, i)).Single(x => x.c.Name == name).i;
        var (machineColumn, kindColumn, channelColumn, statusColumn) = (Column("machine_id"), Column("kind"), Column("channel"), Column("status_code"));
        var printed = PrintedColumns.Select(Column).ToArray();

        var lines = new List<IReadOnlyList<string?>>();
        var statuses = new Dictionary<string, long>();
        var channels = new Dictionary<string, long>();
        long machines = 0, products = 0, rows = 0;
        string? machine = null;
        object?[]? windows = null;
        await foreach (var row in table.Rows.WithCancellation(cancellationToken))
        {
            if ((string?)row[machineColumn] != machine)
            {
                CountMachine();
                (machine, windows) = ((string?)row[machineColumn], null);
                machines++;
            }

            products += row[kindColumn] is null ? 0 : 1;
            // The machine's Windows licence is its licensed Windows row if it has one, as the grid has it.
            if ((string?)row[kindColumn] == nameof(ProductKind.Windows) && (windows is null || (long?)row[statusColumn] == (long)LicenseStatus.Licensed))
            {
                windows = row;
            }

            if (lines.Count < MaxTableRows + 1)
            {
                lines.Add([.. printed.Select(i => Text(row[i]))]);
            }

            ExportProgress.Count(ref rows, progress);
        }

        CountMachine();
        var licensed = statuses.GetValueOrDefault(nameof(LicenseStatus.Licensed));
        var notReported = statuses.GetValueOrDefault(NotReported);
        return new PdfReport(
            provenance.Title,
            provenance.FiltersText,
            provenance.AsOf,
            provenance.GeneratedAt,
            [
                new("Machines", machines.ToString("N0", CultureInfo.InvariantCulture)),
                new("Windows licensed", machines == 0 ? "0" : $"{licensed:N0} ({(double)licensed / machines:P0})"),
                new("Not licensed", (machines - licensed - notReported).ToString("N0", CultureInfo.InvariantCulture)),
                new("Products", products.ToString("N0", CultureInfo.InvariantCulture)),
            ],
            [
                new PdfChart("Machines by Windows licence status", [.. Order(statuses, [.. Enum.GetNames<LicenseStatus>(), NotReported])]),
                new PdfChart("Machines by Windows channel", [.. channels.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal)]),
            ],
            [new PdfTable(table.Title, ["Host", "Edition", "Product", "Channel", "Key", "Status", "KMS host", "Last seen"], [13, 11, 28, 8, 8, 10, 12, 12], Lines(lines), MaxTableRows)],
            $"Export {provenance.ExportId} by {provenance.RequestedBy}. Times are UTC. Counts are per machine, by its Windows licence (the licensed one when it has several); "
            + "\"not licensed\" is every status but Licensed. Verify this file on the Exports page or with openssl and the export's .sig file.");

        void CountMachine()
        {
            if (machine is null)
            {
                return;
            }

            var status = windows?[statusColumn] is long code ? ((LicenseStatus)code).ToString() : NotReported;
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            var channel = (string?)windows?[channelColumn] ?? NotReported;
            channels[channel] = channels.GetValueOrDefault(channel) + 1;
        }
    }

    private const string NotReported = "No Windows reported";

    private static IEnumerable<KeyValuePair<string, long>> Order(Dictionary<string, long> counts, string[] order) =>
        order.Where(counts.ContainsKey).Concat(counts.Keys.Except(order).Order(StringComparer.Ordinal)).Select(k => new KeyValuePair<string, long>(k, counts[k]));

    private static async IAsyncEnumerable<IReadOnlyList<string?>> Lines(List<IReadOnlyList<string?>> lines)
    {
        await Task.CompletedTask;
        foreach (var line in lines)
        {
            yield return line;
        }
    }

    private static string? Text(object? value) => value switch
    {
        null => null,
        DateTimeOffset at => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
        long number => number.ToString(CultureInfo.InvariantCulture),
        var text => (string)text,
    };
}
