using System.Globalization;
using System.Text.RegularExpressions;

using FleetLicense.Contracts;
using FleetLicense.Domain.Licensing;

namespace FleetLicense.Domain.Parsing;

/// <summary>
/// Reads English <c>slmgr /dli</c>, <c>/dlv</c> and <c>/dlv all</c> output. Each labelled line is mapped to the
/// WMI property slmgr printed it from, and the product is then built by <see cref="WmiProductRow"/>, so text and
/// WMI give identical results. Lines wrapped at the console width are rejoined.
/// </summary>
internal static partial class SlmgrReader
{
    private static readonly HashSet<string> Labels = new(StringComparer.Ordinal)
    {
        "Name", "Description", "Activation ID", "Application ID", "Extended PID", "Product Key Channel", "Installation ID",
        "Processor Certificate URL", "Machine Certificate URL", "Use License URL", "Product Key Certificate URL", "Validation URL",
        "Partial Product Key", "License Status", "Notification Reason", "Time remaining", "Volume activation expiration",
        "Timebased activation expiration", "Automatic VM activation expiration", "Evaluation End Date",
        "Remaining Windows rearm count", "Remaining SKU rearm count", "Remaining App rearm count", "Trusted time",
        "Client Machine ID (CMID)", "Registered KMS machine name", "Registered KMS SRV record lookup domain",
        "KMS machine name from DNS", "KMS machine IP address", "KMS machine extended PID", "Activation interval",
        "Renewal interval", "Current count", "Listening on Port", "KMS priority", "Configured Activation Type",
        "Total requests received", "Failed requests received", "Software licensing service version",
        "Activation Object name", "AO DN", "AO extended PID", "AO activation ID", "Guest IAID", "Host machine name",
        "Activation time", "Host Digital PID2",
    };

    private static readonly string[] StandaloneLines =
    [
        "Key Management Service client information", "KMS host caching is enabled", "KMS host caching is disabled",
        "DNS auto-discovery: KMS name not available", "Key Management Service is enabled on this machine",
        "DNS publishing enabled", "DNS publishing disabled", "Most recent activation information:",
        "Key Management Service cumulative requests received from clients", "This license is not in use.",
        "Automatic VM Activation client information", "AD Activation client information", "Token-based Activation information",
    ];

    private const int WrapThreshold = 60;

    public static ParseResult Read(IReadOnlyList<string> lines)
    {
        var blocks = new List<Dictionary<string, string>>();
        Dictionary<string, string>? current = null;
        string? lastLabel = null;
        int lastLength = 0;
        int known = 0;
        int unknownLabelled = 0;
        bool verbose = false;

        foreach (string raw in lines)
        {
            string line = raw.TrimEnd();
            if (line.Length == 0 || DumpText.IsNoise(line))
            {
                lastLabel = null;
                continue;
            }

            string trimmed = line.Trim();
            if (StandaloneLines.Contains(trimmed, StringComparer.Ordinal))
            {
                if (trimmed == "Key Management Service is enabled on this machine" && current is not null)
                {
                    current["IsKmsHost"] = "True";
                }

                lastLabel = null;
                continue;
            }

            if (TrySplit(trimmed, out string label, out string value)
                && (Labels.Contains(label) || label.StartsWith("Requests with License Status", StringComparison.Ordinal)))
            {
                known++;
                if (label == "Name")
                {
                    current = new Dictionary<string, string>(StringComparer.Ordinal);
                    blocks.Add(current);
                }
                else if (current is null && label != "Software licensing service version")
                {
                    current = new Dictionary<string, string>(StringComparer.Ordinal);
                    blocks.Add(current);
                }

                verbose |= label is "Activation ID" or "Application ID" or "Product Key Channel" or "Extended PID";
                if (current is not null)
                {
                    current.TryAdd(label, value);
                }

                lastLabel = current is null ? null : label;
                lastLength = line.Length;
            }
            else if (lastLabel is not null && current is not null && lastLength >= WrapThreshold)
            {
                // The console wrapped a long line at its width: the rest continues at column 0, mid-word.
                current[lastLabel] += line;
                lastLength = line.Length;
            }
            else
            {
                if (TrySplit(trimmed, out _, out _))
                {
                    unknownLabelled++;
                }

                lastLabel = null;
            }
        }

        DumpFormat format = verbose ? DumpFormat.SlmgrDlv : DumpFormat.SlmgrDli;
        if (known == 0 || unknownLabelled > known)
        {
            return ParseResult.Fail("slmgr output is not in English (or not slmgr output); localized text cannot be read reliably — " + LicensingDumpParser.WmiAdvice, format);
        }

        var warnings = new List<string>();
        var products = new List<LicensedProductV1>();
        foreach (Dictionary<string, string> block in blocks)
        {
            if (string.IsNullOrWhiteSpace(block.GetValueOrDefault("Partial Product Key")))
            {
                // "/dlv all" lists every SKU; those without a key are licences Windows merely knows about.
                continue;
            }

            string name = block.GetValueOrDefault("Name") ?? "(unnamed product)";
            if (!block.TryGetValue("License Status", out string? statusText))
            {
                return ParseResult.Fail($"product '{name}' has no License Status line; the output is incomplete or not in English — {LicensingDumpParser.WmiAdvice}", format);
            }

            if (!LicenseStatuses.TryParseSlmgrText(statusText, out LicenseStatus status))
            {
                return ParseResult.Fail($"License Status '{statusText.Trim()}' of '{name}' is not one slmgr prints in English; nothing was guessed — {LicensingDumpParser.WmiAdvice}", format);
            }

            Dictionary<string, object?> row = ToWmiRow(block, status);
            if (WmiProductRow.ToProduct(row, warnings) is { } product)
            {
                products.Add(product);
            }
        }

        if (blocks.Count > 0 && products.Count == 0)
        {
            warnings.Add("no product in this slmgr output has a product key installed.");
        }

        return ParseResult.Ok(new MachineLicensingState { Products = products }, format, warnings);
    }

    private static Dictionary<string, object?> ToWmiRow(Dictionary<string, string> block, LicenseStatus status)
    {
        var row = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Name"] = block.GetValueOrDefault("Name"),
            ["Description"] = block.GetValueOrDefault("Description"),
            ["ID"] = block.GetValueOrDefault("Activation ID"),
            ["ApplicationID"] = block.GetValueOrDefault("Application ID"),
            ["ProductKeyID"] = block.GetValueOrDefault("Extended PID"),
            ["ProductKeyChannel"] = block.GetValueOrDefault("Product Key Channel"),
            ["PartialProductKey"] = block.GetValueOrDefault("Partial Product Key"),
            ["LicenseStatus"] = status == LicenseStatus.Unknown ? null : ((int)status).ToString(CultureInfo.InvariantCulture),
            ["EvaluationEndDate"] = block.GetValueOrDefault("Evaluation End Date"),
            ["RemainingSkuReArmCount"] = block.GetValueOrDefault("Remaining SKU rearm count"),
            ["RemainingAppReArmCount"] = block.GetValueOrDefault("Remaining App rearm count"),
            ["VLActivationInterval"] = LeadingNumber(block.GetValueOrDefault("Activation interval")),
            ["VLRenewalInterval"] = LeadingNumber(block.GetValueOrDefault("Renewal interval")),
            ["KeyManagementServiceCurrentCount"] = block.GetValueOrDefault("Current count"),
            ["IsKeyManagementServiceMachine"] = block.GetValueOrDefault("IsKmsHost"),
        };

        if (block.GetValueOrDefault("Notification Reason") is { } reason && HexCode().Match(reason) is { Success: true } hex)
        {
            row["LicenseStatusReason"] = long.Parse(hex.Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture);
        }

        string? minutes = block.GetValueOrDefault("Time remaining")
            ?? block.GetValueOrDefault("Volume activation expiration")
            ?? block.GetValueOrDefault("Timebased activation expiration")
            ?? block.GetValueOrDefault("Automatic VM activation expiration");
        if (minutes is not null && Minutes().Match(minutes) is { Success: true } m)
        {
            row["GracePeriodRemaining"] = m.Groups[1].Value;
        }
        else if (status == LicenseStatus.Licensed)
        {
            // slmgr prints an expiration only when GracePeriodRemaining is not zero.
            row["GracePeriodRemaining"] = "0";
        }

        (row["KeyManagementServiceMachine"], row["KeyManagementServicePort"]) = HostPort(block.GetValueOrDefault("Registered KMS machine name"));
        (row["DiscoveredKeyManagementServiceMachineName"], row["DiscoveredKeyManagementServiceMachinePort"]) = HostPort(block.GetValueOrDefault("KMS machine name from DNS"));
        string? ip = block.GetValueOrDefault("KMS machine IP address");
        row["DiscoveredKeyManagementServiceMachineIpAddress"] = ip is null || ip.Contains("not available", StringComparison.OrdinalIgnoreCase) ? null : ip.Trim();
        return row;
    }

    /// <summary>Splits <c>host:port</c>, <c>[v6]:port</c> or a bare host.</summary>
    internal static (string? Host, string? Port) HostPort(string? value)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Contains("not available", StringComparison.OrdinalIgnoreCase))
        {
            return (null, null);
        }

        string v = value.Trim();
        Match match = HostPortPattern().Match(v);
        return match.Success ? (match.Groups["host"].Value.Trim('[', ']'), match.Groups["port"].Value) : (v, null);
    }

    internal static bool TrySplit(string line, out string label, out string value)
    {
        int colon = line.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || (colon + 1 < line.Length && line[colon + 1] != ' '))
        {
            label = value = string.Empty;
            return false;
        }

        label = line[..colon].Trim();
        value = line[(colon + 1)..].Trim();
        return label.Length is > 0 and <= 80;
    }

    private static string? LeadingNumber(string? text) =>
        text is not null && LeadingDigits().Match(text) is { Success: true } m ? m.Groups[1].Value : null;

    [GeneratedRegex(@"0x([0-9A-Fa-f]{1,8})", RegexOptions.CultureInvariant)]
    private static partial Regex HexCode();

    [GeneratedRegex(@"^\s*(\d+)\s*minute", RegexOptions.CultureInvariant)]
    private static partial Regex Minutes();

    [GeneratedRegex(@"^\s*(\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex LeadingDigits();

    [GeneratedRegex(@"^(?<host>\[[^\]]+\]|[^:\s]+):(?<port>\d{1,5})$", RegexOptions.CultureInvariant)]
    private static partial Regex HostPortPattern();
}
