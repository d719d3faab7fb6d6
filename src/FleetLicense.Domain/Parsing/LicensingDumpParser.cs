using System.Text.RegularExpressions;

using FleetLicense.Contracts;

namespace FleetLicense.Domain.Parsing;

/// <summary>
/// The one entry point for reading what Windows says about its licences: detects the kind of dump
/// (WMI as JSON, Format-List or wmic; slmgr /dli, /dlv, /xpr; ospp.vbs /dstatus; a FleetLicense report) and
/// normalises it. What cannot be read exactly is refused with a reason, never guessed.
/// </summary>
public static partial class LicensingDumpParser
{
    internal const string WmiAdvice =
        "send a WMI dump instead: Get-CimInstance SoftwareLicensingProduct -Filter \"PartialProductKey IS NOT NULL\" | ConvertTo-Json";

    private static readonly string[] KnownWmiProperties =
    [
        "PartialProductKey", "LicenseStatus", "ApplicationID", "ProductKeyChannel", "LicenseFamily", "GracePeriodRemaining",
        "OA3xOriginalProductKey", "OA3xOriginalProductKeyDescription", "ClientMachineID", "EditionID", "PCSystemType",
        "PartOfDomain", "IdentifyingNumber", "ChassisTypes", "BuildNumber",
    ];

    /// <summary>Parses raw bytes (UTF-8 or UTF-16, with or without BOM).</summary>
    public static ParseResult Parse(ReadOnlySpan<byte> bytes, ParseOptions? options = null)
    {
        if (bytes.IsEmpty)
        {
            return ParseResult.Fail("the file is empty; expected a licensing dump");
        }

        return DumpText.TryDecode(bytes, out string text, out string? error)
            ? Parse(text, options)
            : ParseResult.Fail(error!);
    }

    /// <summary>Parses text, detecting its kind.</summary>
    public static ParseResult Parse(string text, ParseOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        options ??= new ParseOptions();
        if (string.IsNullOrWhiteSpace(text.Replace("\uFEFF", string.Empty, StringComparison.Ordinal).Replace("\0", string.Empty, StringComparison.Ordinal)))
        {
            return ParseResult.Fail("the file is empty; expected a licensing dump");
        }

        if (DumpText.LooksBinary(text))
        {
            return ParseResult.Fail("the file contains binary data, not text; expected a licensing dump");
        }

        IReadOnlyList<string> lines = DumpText.Lines(text);
        string? first = lines.FirstOrDefault(l => !string.IsNullOrWhiteSpace(l) && !DumpText.IsNoise(l))?.TrimStart();
        if (first is not null && (first.StartsWith('{') || first.StartsWith('[')))
        {
            return WmiJsonReader.Read(text, options);
        }

        if (lines.Any(l => l.StartsWith("LICENSE NAME:", StringComparison.Ordinal) || l.StartsWith("---Processing---", StringComparison.Ordinal)
            || l.StartsWith("Last 5 characters of installed product key:", StringComparison.Ordinal)))
        {
            return OsppReader.Read(lines);
        }

        if (lines.Any(l => l.StartsWith("License Status:", StringComparison.Ordinal) || l.StartsWith("Partial Product Key:", StringComparison.Ordinal)))
        {
            return SlmgrReader.Read(lines);
        }

        if (XprReader.LooksLikeXpr(lines))
        {
            return XprReader.Read(lines);
        }

        int wmic = lines.Count(l => WmicLine().IsMatch(l));
        int formatList = lines.Count(l => FormatListLine().IsMatch(l));
        bool knownProperty = lines.Any(l => KnownWmiProperties.Any(p => l.StartsWith(p, StringComparison.OrdinalIgnoreCase)));
        if (knownProperty && wmic >= 2 && wmic >= formatList)
        {
            return WmiTextReader.Read(lines, DumpFormat.WmicList, options);
        }

        if (knownProperty && formatList >= 2)
        {
            return WmiTextReader.Read(lines, DumpFormat.WmiFormatList, options);
        }

        if (LooksLikeLocalizedSlmgr(lines))
        {
            return ParseResult.Fail(
                "this looks like slmgr or ospp output in a language other than English; localized text cannot be read reliably, so nothing was guessed — "
                + WmiAdvice);
        }

        return ParseResult.Fail(
            "not a recognised licensing dump; expected WMI (ConvertTo-Json, Format-List or wmic /format:list), "
            + "English slmgr /dli, /dlv or /xpr output, or ospp.vbs /dstatus output");
    }

    /// <summary>
    /// Turns WMI rows (from any WMI dump, or live WMI) into a state: product rows become products (rows without
    /// a key are skipped), the service row gives the firmware key and machine-wide KMS host, other rows give
    /// machine facts.
    /// </summary>
    public static ParseResult FromWmiRows(IEnumerable<PropertyBag> rows, DumpFormat format, ParseOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        options ??= new ParseOptions();
        var warnings = new List<string>();
        var products = new List<LicensedProductV1>();
        var machine = new MachineFactsV1();
        int productRows = 0, serviceRows = 0, otherRows = 0;
        foreach (PropertyBag row in rows)
        {
            if (WmiProductRow.IsProductRow(row))
            {
                productRows++;
                if (WmiProductRow.ToProduct(row, warnings) is { } product)
                {
                    products.Add(product);
                }
            }
            else if (WmiServiceRow.IsServiceRow(row))
            {
                serviceRows++;
                LicensingServiceInfo service = WmiServiceRow.Read(row, options.OrganisationSecret.Span);
                machine = machine with
                {
                    FirmwareKey = machine.FirmwareKey ?? service.FirmwareKey,
                    KmsHost = machine.KmsHost ?? service.KmsHost,
                    KmsPort = machine.KmsPort ?? service.KmsPort,
                };
            }
            else
            {
                MachineFactsV1 before = machine;
                machine = MachineFactsReader.Apply(machine, row);
                if (machine != before)
                {
                    otherRows++;
                }
            }
        }

        if (productRows == 0 && serviceRows == 0 && otherRows == 0)
        {
            return ParseResult.Fail($"no SoftwareLicensingProduct, SoftwareLicensingService or machine rows found in this {ParseResult.Describe(format)} dump", format);
        }

        if (productRows > 0 && products.Count == 0)
        {
            warnings.Add($"{productRows} licensing row(s) found, none with a product key installed (PartialProductKey empty).");
        }

        return ParseResult.Ok(new MachineLicensingState { Machine = machine, Products = products }, format, warnings);
    }

    private static bool LooksLikeLocalizedSlmgr(IReadOnlyList<string> lines)
    {
        int labelled = lines.Count(l => LabelLine().IsMatch(l));
        bool licensingWords = lines.Any(l => ChannelWord().IsMatch(l));
        return labelled >= 2 && licensingWords;
    }

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*=", RegexOptions.CultureInvariant)]
    private static partial Regex WmicLine();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*\s*:(?:\s|$)", RegexOptions.CultureInvariant)]
    private static partial Regex FormatListLine();

    [GeneratedRegex(@"^\s*\S[^:]{0,60}:\s", RegexOptions.CultureInvariant)]
    private static partial Regex LabelLine();

    [GeneratedRegex(@"(VOLUME_|OEM_|RETAIL|TIMEBASED_|Windows\(R\)|Office \d+,|---[A-Z_ ]+---)", RegexOptions.CultureInvariant)]
    private static partial Regex ChannelWord();
}
