using System.Globalization;
using FleetLicense.Contracts;
using FleetLicense.Domain.Rules;

namespace FleetLicense.Web.Features.Exports;

/// <summary>
/// A report as a PDF: a summary page, then its lines, capped at <see cref="MaxTableRows"/> (a million machines are a
/// spreadsheet's job, not paper's). The inventory's summary is of the machines it covers, by their Windows licence
/// status and channel; another report's counts its lines by the columns that sort them into kinds.
/// </summary>
public static class PdfSummary
{
    public const int MaxTableRows = 5_000;

    /// <summary>The columns each report's lines are counted by on its summary page.</summary>
    private static string[] ChartedBy(string report) => report switch
    {
        ExportReports.Unactivated => ["status", "channel"],
        ExportReports.SuspiciousKeys => ["severity", "rule", "state"],
        ExportReports.KeyReuse => ["kind"],
        ExportReports.AgentHealth => ["liveness", "agent_version"],
        _ => [],
    };

    /// <summary>The report's PDF; an inventory's summary also charts the open findings of <paramref name="findings"/> (the same machines and instant).</summary>
    public static Task<PdfReport> ReportAsync(string report, ReportProvenance provenance, ReportTable table, ReportTable findings, IProgress<long>? progress,
        CancellationToken cancellationToken) =>
        report == ExportReports.Inventory
            ? InventoryAsync(provenance, table, findings, progress, cancellationToken)
            : LinesAsync(report, provenance, table, progress, cancellationToken);

    /// <summary>Any report: the number of lines, a chart per column it is charted by, and its lines (the machine id aside: the host name says it).</summary>
    private static async Task<PdfReport> LinesAsync(string report, ReportProvenance provenance, ReportTable table, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var charted = ChartedBy(report).Select(name => (Name: name, Index: table.IndexOf(name), Counts: new Dictionary<string, long>(StringComparer.Ordinal))).ToList();
        var printed = table.Columns.Select((c, i) => (c, i)).Where(x => x.c.Name != "machine_id").ToList();
        var lines = new List<IReadOnlyList<string?>>();
        long rows = 0;
        await foreach (var row in table.Rows.WithCancellation(cancellationToken))
        {
            foreach (var (_, index, counts) in charted)
            {
                var value = Text(row[index]) ?? "(none)";
                counts[value] = counts.GetValueOrDefault(value) + 1;
            }

            if (lines.Count < MaxTableRows + 1)
            {
                lines.Add([.. printed.Select(x => Text(row[x.i]))]);
            }

            ExportProgress.Count(ref rows, progress);
        }

        return new PdfReport(provenance.Title, provenance.FiltersText, provenance.AsOf, provenance.GeneratedAt,
            [new("Lines", rows.ToString("N0", CultureInfo.InvariantCulture))],
            [.. charted.Select(c => new PdfChart($"Lines by {c.Name.Replace('_', ' ')}", [.. c.Counts.OrderByDescending(v => v.Value).ThenBy(v => v.Key, StringComparer.Ordinal).Take(15)]))],
            [new PdfTable(table.Title, [.. printed.Select(x => x.c.Name.Replace('_', ' '))], [.. printed.Select(x => x.c.Width)], Lines(lines), MaxTableRows)],
            Footnote(provenance));
    }

    private static string Footnote(ReportProvenance provenance) =>
        $"Export {provenance.ExportId} by {provenance.RequestedBy}. Times are UTC. Verify this file on the Exports page, or with openssl and the export's .sig file.";

    private static readonly string[] PrintedColumns = ["hostname", "edition", "product", "channel", "partial_key", "status", "kms_host", "last_seen"];

    /// <summary>
    /// Reads the table once: the counts and the printed lines come from the same read, so the summary and the table
    /// agree even while reports arrive. (The live inventory is counted by PostgreSQL instead: <see cref="ComplianceReports.LiveInventoryPdfAsync"/>.)
    /// </summary>
    private static async Task<PdfReport> InventoryAsync(ReportProvenance provenance, ReportTable table, ReportTable findings, IProgress<long>? progress,
        CancellationToken cancellationToken)
    {
        var (machineColumn, kindColumn, channelColumn, statusColumn) = (table.IndexOf("machine_id"), table.IndexOf("kind"), table.IndexOf("channel"), table.IndexOf("status_code"));
        var printed = PrintedColumns.Select(table.IndexOf).ToArray();

        var lines = new List<IReadOnlyList<string?>>();
        var statuses = new Dictionary<string, long>(StringComparer.Ordinal);
        var channels = new Dictionary<string, long>(StringComparer.Ordinal);
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
            // The machine's Windows licence is its first licensed Windows row if it has one, else its first Windows row.
            if ((string?)row[kindColumn] == nameof(ProductKind.Windows)
                && (windows is null || ((long?)row[statusColumn] == (long)LicenseStatus.Licensed && (long?)windows[statusColumn] != (long)LicenseStatus.Licensed)))
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
        return Inventory(provenance, table.Title, new InventoryCounts(machines, products, statuses, channels), await OpenFindingsAsync(findings, cancellationToken), lines);

        void CountMachine()
        {
            if (machine is null)
            {
                return;
            }

            var status = windows?[statusColumn] is long code ? ((LicenseStatus)code).ToString() : InventoryCounts.NotReported;
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            var channel = (string?)windows?[channelColumn] ?? InventoryCounts.NotReported;
            channels[channel] = channels.GetValueOrDefault(channel) + 1;
        }
    }

    /// <summary>
    /// The inventory's PDF from counts made beforehand (of the same lines: the caller's snapshot), reading only the
    /// lines it prints from <paramref name="table"/>.
    /// </summary>
    public static async Task<PdfReport> InventoryAsync(ReportProvenance provenance, ReportTable table, InventoryCounts counts,
        IReadOnlyDictionary<(FindingSeverity Severity, string Rule), long> open, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var printed = PrintedColumns.Select(table.IndexOf).ToArray();
        var lines = new List<IReadOnlyList<string?>>();
        long rows = 0;
        await foreach (var row in table.Rows.WithCancellation(cancellationToken))
        {
            lines.Add([.. printed.Select(i => Text(row[i]))]);
            ExportProgress.Count(ref rows, progress);
            if (lines.Count == MaxTableRows + 1)
            {
                break;
            }
        }

        return Inventory(provenance, table.Title, counts, open, lines);
    }

    private static PdfReport Inventory(ReportProvenance provenance, string title, InventoryCounts counts,
        IReadOnlyDictionary<(FindingSeverity Severity, string Rule), long> open, List<IReadOnlyList<string?>> lines)
    {
        var machines = counts.Machines;
        var licensed = counts.Statuses.GetValueOrDefault(nameof(LicenseStatus.Licensed));
        var notReported = counts.Statuses.GetValueOrDefault(InventoryCounts.NotReported);
        return new PdfReport(
            provenance.Title,
            provenance.FiltersText,
            provenance.AsOf,
            provenance.GeneratedAt,
            [
                new("Machines", machines.ToString("N0", CultureInfo.InvariantCulture)),
                new("Windows licensed", machines == 0 ? "0" : $"{licensed:N0} ({(double)licensed / machines:P0})"),
                new("Not licensed", (machines - licensed - notReported).ToString("N0", CultureInfo.InvariantCulture)),
                new("Products", counts.Products.ToString("N0", CultureInfo.InvariantCulture)),
            ],
            [
                new PdfChart("Machines by Windows licence status", [.. Order(counts.Statuses, [.. Enum.GetNames<LicenseStatus>(), InventoryCounts.NotReported])]),
                new PdfChart("Machines by Windows channel", [.. counts.Channels.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal)]),
                new PdfChart("Top findings: open and acknowledged flags by rule", [.. open
                    .OrderByDescending(c => c.Key.Severity).ThenByDescending(c => c.Value).ThenBy(c => c.Key.Rule, StringComparer.Ordinal).Take(10)
                    .Select(c => new KeyValuePair<string, long>($"{c.Key.Severity}: {Components.Display.RuleName(c.Key.Rule)}", c.Value))]),
            ],
            [new PdfTable(title, ["Host", "Edition", "Product", "Channel", "Key", "Status", "KMS host", "Last seen"], [13, 11, 28, 8, 8, 10, 12, 12], Lines(lines), MaxTableRows)],
            Footnote(provenance) + " Counts are per machine, by its Windows licence (the licensed one when it has several); \"not licensed\" is every status but Licensed.");
    }

    /// <summary>Flags still to deal with (open or acknowledged), counted by severity and rule.</summary>
    private static async Task<Dictionary<(FindingSeverity Severity, string Rule), long>> OpenFindingsAsync(ReportTable findings, CancellationToken cancellationToken)
    {
        var (state, severity, rule) = (findings.IndexOf("state"), findings.IndexOf("severity"), findings.IndexOf("rule"));
        var counts = new Dictionary<(FindingSeverity, string), long>();
        await foreach (var row in findings.Rows.WithCancellation(cancellationToken))
        {
            if (row[state] is nameof(Flags.FlagStatus.Open) or nameof(Flags.FlagStatus.Acknowledged))
            {
                var key = (Enum.Parse<FindingSeverity>((string)row[severity]!), (string)row[rule]!);
                counts[key] = counts.GetValueOrDefault(key) + 1;
            }
        }

        return counts;
    }

    private static IEnumerable<KeyValuePair<string, long>> Order(IReadOnlyDictionary<string, long> counts, string[] order) =>
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

/// <summary>An inventory's summary: machines by their Windows licence status and channel, and products.</summary>
public sealed record InventoryCounts(long Machines, long Products, IReadOnlyDictionary<string, long> Statuses, IReadOnlyDictionary<string, long> Channels)
{
    /// <summary>The status and channel of a machine without a Windows product.</summary>
    public const string NotReported = "No Windows reported";
}
