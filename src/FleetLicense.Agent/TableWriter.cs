using System.Globalization;
using System.Text;

using FleetLicense.Contracts;
using FleetLicense.Domain.Parsing;
using FleetLicense.Domain.Rules;

namespace FleetLicense.Agent;

/// <summary>Renders <c>inspect --format table</c>: aligned columns for people at a terminal.</summary>
internal static class TableWriter
{
    private const int NameWidth = 48;

    public static string Write(string file, ParseResult result, IReadOnlyList<Finding> findings)
    {
        MachineLicensingStateView state = new(result);
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Source:   {Path.GetFileName(file)} ({ParseResult.Describe(result.Format)})");
        MachineFactsV1 m = state.Machine;
        string machine = string.Join(", ", new[] { m.Hostname, Join(m.Manufacturer, m.Model), m.OsName, m.OsBuild is null ? null : $"build {m.OsBuild}" }
            .Where(s => !string.IsNullOrWhiteSpace(s)));
        text.AppendLine(CultureInfo.InvariantCulture, $"Machine:  {(machine.Length == 0 ? "(not in this dump)" : machine)}");
        text.AppendLine(CultureInfo.InvariantCulture, $"Edition:  {state.EditionId ?? "(unknown)"}");
        if (m.FirmwareKey is { } fw)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"Firmware: {fw.Edition ?? "(unknown edition)"} key ending {fw.PartialKey ?? "?"}");
        }

        text.AppendLine();
        string[] header = ["PRODUCT", "KIND", "CHANNEL", "KEY", "STATUS", "GRACE", "KMS HOST"];
        var rows = new List<string[]> { header };
        foreach (LicensedProductV1 p in state.Products)
        {
            rows.Add(
            [
                Truncate(p.Name, NameWidth),
                p.Kind.ToString(),
                p.ChannelDetail is null ? p.Channel.ToString() : $"{p.Channel} ({p.ChannelDetail})",
                p.PartialKey ?? "-",
                $"{p.LicenseStatus} ({p.LicenseStatusCode})",
                Grace(p.GraceMinutes),
                p.KmsHost ?? p.DiscoveredKmsHost ?? p.DiscoveredKmsIpAddress ?? "-",
            ]);
        }

        if (rows.Count == 1)
        {
            text.AppendLine("No licensed products (no product key installed).");
        }
        else
        {
            int[] widths = [.. Enumerable.Range(0, header.Length).Select(c => rows.Max(r => r[c].Length))];
            foreach (string[] row in rows)
            {
                text.AppendLine(string.Join("  ", row.Select((cell, c) => c == row.Length - 1 ? cell : cell.PadRight(widths[c]))).TrimEnd());
            }
        }

        text.AppendLine();
        if (findings.Count == 0)
        {
            text.AppendLine("Findings: none.");
        }
        else
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"Findings ({findings.Count}):");
            int ruleWidth = findings.Max(f => f.Rule.Length);
            foreach (Finding f in findings)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  {f.Severity.ToString().ToUpperInvariant(),-8}  {f.Rule.PadRight(ruleWidth)}  {f.Title}");
                text.AppendLine(CultureInfo.InvariantCulture, $"  {string.Empty,-8}  {string.Empty.PadRight(ruleWidth)}  {f.Message}");
                text.AppendLine(CultureInfo.InvariantCulture, $"  {string.Empty,-8}  {string.Empty.PadRight(ruleWidth)}  What to do: {f.Advice}");
            }
        }

        if (result.Warnings.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("Notes:");
            foreach (string warning in result.Warnings)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  - {warning}");
            }
        }

        return text.ToString().TrimEnd();
    }

    private static string Grace(long? minutes) => minutes switch
    {
        null => "-",
        0 => "0",
        >= 1440 => $"{minutes / 1440}d",
        _ => $"{minutes}min",
    };

    private static string? Join(string? a, string? b) => (a, b) switch
    {
        (null, null) => null,
        (null, _) => b,
        (_, null) => a,
        _ => $"{a} {b}",
    };

    private static string Truncate(string s, int width) => s.Length <= width ? s : string.Concat(s.AsSpan(0, width - 1), "…");

    private readonly record struct MachineLicensingStateView(ParseResult Result)
    {
        public MachineFactsV1 Machine => Result.State!.Machine;

        public IReadOnlyList<LicensedProductV1> Products => Result.State!.Products;

        public string? EditionId => Result.State!.EditionId;
    }
}
