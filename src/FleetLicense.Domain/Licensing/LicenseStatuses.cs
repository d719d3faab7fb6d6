using FleetLicense.Contracts;

namespace FleetLicense.Domain.Licensing;

/// <summary>Meaning of <c>SoftwareLicensingProduct.LicenseStatus</c> (DOMAIN.md §2).</summary>
public static class LicenseStatuses
{
    /// <summary>Maps the WMI code to the status; codes outside 0–6 become <see cref="LicenseStatus.Unknown"/>.</summary>
    public static LicenseStatus FromCode(long code) => code is >= 0 and <= 6 ? (LicenseStatus)(int)code : LicenseStatus.Unknown;

    /// <summary>Only status 1 is activated; 0 and 5 in particular are not, whatever else the row says (see <see cref="StatusBuckets"/>).</summary>
    public static bool IsActivated(LicenseStatus status) => StatusBuckets.Of((int)status) == StatusBucket.Activated;

    /// <summary>True for the grace states 2, 3, 4 and 6, which run out after <c>GracePeriodRemaining</c> minutes (see <see cref="StatusBuckets"/>).</summary>
    public static bool IsGrace(LicenseStatus status) => StatusBuckets.Of((int)status) == StatusBucket.InGrace;

    /// <summary>Plain-English description for people.</summary>
    public static string Describe(LicenseStatus status) => status switch
    {
        LicenseStatus.Unlicensed => "Unlicensed (not activated, no grace left)",
        LicenseStatus.Licensed => "Licensed (activated)",
        LicenseStatus.OOBGrace => "Initial grace period (not yet activated)",
        LicenseStatus.OOTGrace => "Additional grace period (hardware changed or KMS activation expired)",
        LicenseStatus.NonGenuineGrace => "Non-genuine grace period",
        LicenseStatus.Notification => "Notification mode (not activated)",
        LicenseStatus.ExtendedGrace => "Extended grace period",
        _ => "Unknown status",
    };

    /// <summary>
    /// Reads the English status text that <c>slmgr /dli</c> prints after <c>License Status:</c>.
    /// Returns false for anything else (localized text is refused, never guessed).
    /// </summary>
    public static bool TryParseSlmgrText(string? text, out LicenseStatus status)
    {
        string value = (text ?? string.Empty).Trim();
        status = value switch
        {
            "Unlicensed" => LicenseStatus.Unlicensed,
            "Licensed" => LicenseStatus.Licensed,
            "Notification" => LicenseStatus.Notification,
            "Unknown" => LicenseStatus.Unknown,
            _ when value.StartsWith("Initial grace period", StringComparison.Ordinal) => LicenseStatus.OOBGrace,
            _ when value.StartsWith("Additional grace period", StringComparison.Ordinal) => LicenseStatus.OOTGrace,
            _ when value.StartsWith("Non-genuine grace period", StringComparison.Ordinal) => LicenseStatus.NonGenuineGrace,
            _ when value.StartsWith("Extended grace period", StringComparison.Ordinal) => LicenseStatus.ExtendedGrace,
            _ => (LicenseStatus)int.MinValue,
        };
        return status != (LicenseStatus)int.MinValue;
    }

    /// <summary>Reads the status ospp.vbs prints, e.g. <c>---LICENSED---</c> or <c>---OOB_GRACE---</c>.</summary>
    public static bool TryParseOsppText(string? text, out LicenseStatus status)
    {
        string value = (text ?? string.Empty).Trim().Trim('-').Trim();
        status = value switch
        {
            "UNLICENSED" => LicenseStatus.Unlicensed,
            "LICENSED" => LicenseStatus.Licensed,
            "OOB_GRACE" => LicenseStatus.OOBGrace,
            "OOT_GRACE" => LicenseStatus.OOTGrace,
            "NON_GENUINE_GRACE" => LicenseStatus.NonGenuineGrace,
            "NOTIFICATIONS" => LicenseStatus.Notification,
            "EXTENDED GRACE" => LicenseStatus.ExtendedGrace,
            "UNKNOWN" => LicenseStatus.Unknown,
            _ => (LicenseStatus)int.MinValue,
        };
        return status != (LicenseStatus)int.MinValue;
    }

    /// <summary>Formats an HRESULT stored as uint32 the way Microsoft documents it, e.g. <c>0xC004F014</c>.</summary>
    public static string FormatReason(long reason) => $"0x{unchecked((uint)reason):X8}";
}
