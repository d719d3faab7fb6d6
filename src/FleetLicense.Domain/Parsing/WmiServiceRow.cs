using FleetLicense.Contracts;
using FleetLicense.Domain.Keys;
using FleetLicense.Domain.Licensing;

namespace FleetLicense.Domain.Parsing;

/// <summary>What the single <c>SoftwareLicensingService</c> row tells us.</summary>
/// <param name="FirmwareKey">The OA3 firmware key, reduced to edition, partial key and fingerprint.</param>
/// <param name="KmsHost">The machine-wide KMS host (<c>slmgr /skms</c> without an activation id).</param>
/// <param name="KmsPort">Its port.</param>
/// <param name="ServiceVersion">Software licensing service version.</param>
public sealed record LicensingServiceInfo(FirmwareKeyV1? FirmwareKey, string? KmsHost, int? KmsPort, string? ServiceVersion);

/// <summary>Normalises the <c>SoftwareLicensingService</c> row without ever keeping the full firmware key.</summary>
public static class WmiServiceRow
{
    /// <summary>True when the properties look like the licensing service row.</summary>
    public static bool IsServiceRow(PropertyBag row)
    {
        ArgumentNullException.ThrowIfNull(row);
        if (row.ClassName is { } cls)
        {
            return cls.EndsWith("SoftwareLicensingService", StringComparison.OrdinalIgnoreCase)
                || cls.EndsWith("OfficeSoftwareProtectionService", StringComparison.OrdinalIgnoreCase);
        }

        return row.Has("OA3xOriginalProductKey") || row.Has("OA3xOriginalProductKeyDescription")
            || row.Has("ClientMachineID") || row.Has("RemainingWindowsReArmCount") || row.Has("KeyManagementServiceListeningPort");
    }

    /// <summary>
    /// Reads the service row. The full firmware key is used only to derive the partial key and, when an
    /// organisation secret is supplied, the fingerprint; it is not returned.
    /// </summary>
    public static LicensingServiceInfo Read(PropertyBag row, ReadOnlySpan<byte> organisationSecret = default)
    {
        ArgumentNullException.ThrowIfNull(row);
        string? key = row.GetString("OA3xOriginalProductKey");
        string? description = WmiProductRow.Clean(row.GetString("OA3xOriginalProductKeyDescription"));
        FirmwareKeyV1? firmware = null;
        if (ProductKeyText.IsFullKey(key) || description is not null)
        {
            bool hasKey = ProductKeyText.IsFullKey(key);
            firmware = new FirmwareKeyV1
            {
                Edition = EditionCatalog.EditionFromFirmwareKeyDescription(description),
                Description = description,
                PartialKey = hasKey ? PartialKey.Of(key!) : null,
                Fingerprint = hasKey && organisationSecret.Length >= KeyFingerprint.MinimumSecretLength
                    ? KeyFingerprint.Compute(key!, organisationSecret)
                    : null,
            };
        }

        return new LicensingServiceInfo(
            firmware,
            WmiProductRow.Clean(row.GetString("KeyManagementServiceMachine")),
            WmiProductRow.ToPort(row.GetInt64("KeyManagementServicePort")),
            WmiProductRow.Clean(row.GetString("Version")));
    }
}
