using System.Globalization;
using System.Text.RegularExpressions;

using FleetLicense.Contracts;
using FleetLicense.Domain.Licensing;

namespace FleetLicense.Domain.Parsing;

/// <summary>
/// Reads Office <c>ospp.vbs /dstatus</c> output: blocks between dashed separators, with
/// <c>---Processing---</c>/<c>---Exiting---</c> markers around them. ospp.vbs only prints English.
/// </summary>
internal static partial class OsppReader
{
    private static readonly HashSet<string> Labels = new(StringComparer.Ordinal)
    {
        "PRODUCT ID", "SKU ID", "LICENSE NAME", "LICENSE DESCRIPTION", "BETA EXPIRATION", "LICENSE STATUS", "ERROR CODE",
        "ERROR DESCRIPTION", "REMAINING GRACE", "Last 5 characters of installed product key", "Activation Type Configuration",
        "KMS machine name from DNS", "KMS machine registry override defined", "Activation Interval", "Renewal Interval",
        "KMS host caching", "KMS Lookup Domain", "Most recent successful activation client information", "Activation Object name",
        "AO DN", "AO extended PID", "AO activation ID", "Client Machine ID (CMID)", "NOTICE", "FOR MORE INFORMATION PLEASE VISIT",
    };

    public static ParseResult Read(IReadOnlyList<string> lines)
    {
        var blocks = new List<Dictionary<string, string>>();
        var current = new Dictionary<string, string>(StringComparer.Ordinal);
        string? lastLabel = null;
        int lastLength = 0;
        bool noKeys = false;

        foreach (string raw in lines)
        {
            string line = raw.TrimEnd();
            string trimmed = line.Trim();
            if (trimmed.StartsWith("---", StringComparison.Ordinal))
            {
                if (current.Count > 0)
                {
                    blocks.Add(current);
                    current = new Dictionary<string, string>(StringComparer.Ordinal);
                }

                lastLabel = null;
                continue;
            }

            if (trimmed.Length == 0 || DumpText.IsNoise(line))
            {
                lastLabel = null;
                continue;
            }

            noKeys |= trimmed == "<No installed product keys detected>";
            if (SlmgrReader.TrySplit(trimmed, out string label, out string value) && Labels.Contains(label))
            {
                current.TryAdd(label, value);
                lastLabel = label;
                lastLength = line.Length;
            }
            else if (lastLabel is not null && lastLength >= 60 && !trimmed.StartsWith('<'))
            {
                current[lastLabel] += line;
                lastLength = line.Length;
            }
            else
            {
                lastLabel = null;
            }
        }

        if (current.Count > 0)
        {
            blocks.Add(current);
        }

        var warnings = new List<string>();
        var products = new List<LicensedProductV1>();
        foreach (Dictionary<string, string> block in blocks.Where(b => b.ContainsKey("LICENSE NAME")))
        {
            string name = block["LICENSE NAME"];
            if (!block.TryGetValue("LICENSE STATUS", out string? statusText) || !LicenseStatuses.TryParseOsppText(statusText, out LicenseStatus status))
            {
                return ParseResult.Fail($"Office product '{name}' has no readable LICENSE STATUS line; the output is incomplete", DumpFormat.OsppDstatus);
            }

            (string? kmsHost, string? kmsPort) = SlmgrReader.HostPort(block.GetValueOrDefault("KMS machine registry override defined"));
            (string? dnsHost, string? dnsPort) = SlmgrReader.HostPort(block.GetValueOrDefault("KMS machine name from DNS"));
            string? grace = block.GetValueOrDefault("REMAINING GRACE") is { } g && GraceMinutes().Match(g) is { Success: true } m
                ? m.Groups[1].Value
                : "0"; // ospp.vbs prints REMAINING GRACE only when GracePeriodRemaining is not zero.
            string? reason = block.GetValueOrDefault("ERROR CODE") is { } e && HexCode().Match(e) is { Success: true } h
                ? long.Parse(h.Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture)
                : null;

            var row = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase)
            {
                ["Name"] = name,
                ["Description"] = block.GetValueOrDefault("LICENSE DESCRIPTION"),
                ["ID"] = block.GetValueOrDefault("SKU ID"),
                ["ProductKeyID"] = block.GetValueOrDefault("PRODUCT ID"),
                ["PartialProductKey"] = block.GetValueOrDefault("Last 5 characters of installed product key"),
                ["LicenseStatus"] = status == LicenseStatus.Unknown ? null : ((int)status).ToString(CultureInfo.InvariantCulture),
                ["LicenseStatusReason"] = reason,
                ["GracePeriodRemaining"] = grace,
                ["EvaluationEndDate"] = block.GetValueOrDefault("BETA EXPIRATION"),
                ["KeyManagementServiceMachine"] = kmsHost,
                ["KeyManagementServicePort"] = kmsPort,
                ["DiscoveredKeyManagementServiceMachineName"] = dnsHost,
                ["DiscoveredKeyManagementServiceMachinePort"] = dnsPort,
                ["VLActivationInterval"] = LeadingNumber(block.GetValueOrDefault("Activation Interval")),
                ["VLRenewalInterval"] = LeadingNumber(block.GetValueOrDefault("Renewal Interval")),
            };

            if (WmiProductRow.ToProduct(row, warnings) is { } product)
            {
                // ospp.vbs lists Office products only.
                products.Add(product with { Kind = ProductKind.Office });
            }
        }

        if (products.Count == 0)
        {
            if (!noKeys)
            {
                return ParseResult.Fail("ospp.vbs output contains no Office product blocks; expected the output of cscript ospp.vbs /dstatus", DumpFormat.OsppDstatus);
            }

            warnings.Add("ospp.vbs reports no installed Office product keys.");
        }

        return ParseResult.Ok(new MachineLicensingState { Products = products }, DumpFormat.OsppDstatus, warnings);
    }

    private static string? LeadingNumber(string? text) =>
        text is not null && Leading().Match(text) is { Success: true } m ? m.Groups[1].Value : null;

    [GeneratedRegex(@"\((\d+)\s*minute", RegexOptions.CultureInvariant)]
    private static partial Regex GraceMinutes();

    [GeneratedRegex(@"0x([0-9A-Fa-f]{1,8})", RegexOptions.CultureInvariant)]
    private static partial Regex HexCode();

    [GeneratedRegex(@"^\s*(\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex Leading();
}
