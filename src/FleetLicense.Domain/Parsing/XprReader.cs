using FleetLicense.Contracts;
using FleetLicense.Domain.Licensing;

namespace FleetLicense.Domain.Parsing;

/// <summary>
/// Reads English <c>slmgr /xpr</c> output: an optional <c>Product name:</c> line and one status sentence. The
/// expiry date it prints is locale-formatted, so it is reported as a note and not turned into minutes.
/// </summary>
internal static class XprReader
{
    private static readonly (string Prefix, LicenseStatus Status)[] Statements =
    [
        ("The machine is permanently activated.", LicenseStatus.Licensed),
        ("Volume activation will expire", LicenseStatus.Licensed),
        ("Timebased activation will expire", LicenseStatus.Licensed),
        ("Automatic VM activation will expire", LicenseStatus.Licensed),
        ("Initial grace period ends", LicenseStatus.OOBGrace),
        ("Additional grace period ends", LicenseStatus.OOTGrace),
        ("Non-genuine grace period ends", LicenseStatus.NonGenuineGrace),
        ("Extended grace period ends", LicenseStatus.ExtendedGrace),
        ("Windows is in Notification mode", LicenseStatus.Notification),
        ("Unlicensed", LicenseStatus.Unlicensed),
    ];

    public static bool LooksLikeXpr(IReadOnlyList<string> lines) =>
        lines.Any(l => Match(l.Trim()) is not null);

    public static ParseResult Read(IReadOnlyList<string> lines)
    {
        var products = new List<LicensedProductV1>();
        var warnings = new List<string>();
        string? pendingName = null;
        foreach (string raw in lines)
        {
            string line = raw.Trim();
            if (line.Length == 0 || DumpText.IsNoise(raw))
            {
                continue;
            }

            (string Prefix, LicenseStatus Status)? statement = Match(line);
            if (statement is null)
            {
                if (line.StartsWith("Error:", StringComparison.OrdinalIgnoreCase))
                {
                    return ParseResult.Fail($"slmgr /xpr reported an error: {WmiProductRow.Clean(line)}", DumpFormat.SlmgrXpr);
                }

                pendingName = line.EndsWith(':') ? line[..^1].Trim() : pendingName;
                continue;
            }

            string name = WmiProductRow.Clean(pendingName) ?? "Windows (slmgr /xpr)";
            LicenseStatus status = statement.Value.Status;
            string rest = line[statement.Value.Prefix.Length..].Trim();
            if (rest.Length > 0)
            {
                warnings.Add($"{name}: '{statement.Value.Prefix} {rest}' is a locale-formatted date; not converted (use a WMI dump for GracePeriodRemaining).");
            }

            products.Add(new LicensedProductV1
            {
                Name = name,
                Kind = ProductClassifier.Classify(null, null, pendingName ?? "Windows", null),
                LicenseStatusCode = (int)status,
                LicenseStatus = status,
                GraceMinutes = statement.Value.Prefix.StartsWith("The machine is permanently", StringComparison.Ordinal) ? 0 : null,
            });
            pendingName = null;
        }

        warnings.Add("slmgr /xpr shows only the activation state: no channel, key or KMS host; findings are limited.");
        return ParseResult.Ok(new MachineLicensingState { Products = products }, DumpFormat.SlmgrXpr, warnings);
    }

    private static (string Prefix, LicenseStatus Status)? Match(string line)
    {
        foreach ((string prefix, LicenseStatus status) in Statements)
        {
            if (prefix == "Unlicensed" ? line == prefix : line.StartsWith(prefix, StringComparison.Ordinal))
            {
                return (prefix, status);
            }
        }

        return null;
    }
}
