using FleetLicense.Contracts;
using FleetLicense.Domain.Keys;
using FleetLicense.Domain.Licensing;

namespace FleetLicense.Domain.Parsing;

/// <summary>
/// Normalises one <c>SoftwareLicensingProduct</c> (or <c>OfficeSoftwareProtectionProduct</c>) row. The Windows
/// agent feeds live WMI properties through this; the dump parsers feed what they read from text.
/// </summary>
public static class WmiProductRow
{
    /// <summary>True when the properties look like a licensing product row.</summary>
    public static bool IsProductRow(PropertyBag row)
    {
        ArgumentNullException.ThrowIfNull(row);
        if (row.ClassName is { } cls)
        {
            return cls.EndsWith("SoftwareLicensingProduct", StringComparison.OrdinalIgnoreCase)
                || cls.EndsWith("OfficeSoftwareProtectionProduct", StringComparison.OrdinalIgnoreCase);
        }

        return row.Has("PartialProductKey") || (row.Has("LicenseStatus") && (row.Has("ApplicationID") || row.Has("LicenseFamily")));
    }

    /// <summary>
    /// Builds the product from a row, or returns null when the row has no product key installed (most SKU
    /// rows are licences Windows merely knows about). <paramref name="warnings"/> collects values that were
    /// present but could not be read exactly.
    /// </summary>
    /// <param name="properties">The row's properties.</param>
    /// <param name="warnings">Receives a sentence per value that was dropped rather than guessed.</param>
    /// <param name="keyFingerprint">Fingerprint of the full key, when the caller could read it (agent only).</param>
    public static LicensedProductV1? ToProduct(IReadOnlyDictionary<string, object?> properties, ICollection<string>? warnings = null, string? keyFingerprint = null)
    {
        return ToProduct(new PropertyBag(properties), warnings, keyFingerprint);
    }

    /// <inheritdoc cref="ToProduct(IReadOnlyDictionary{string, object?}, ICollection{string}?, string?)"/>
    public static LicensedProductV1? ToProduct(PropertyBag row, ICollection<string>? warnings = null, string? keyFingerprint = null)
    {
        ArgumentNullException.ThrowIfNull(row);
        string? partialRaw = row.GetString("PartialProductKey");
        if (partialRaw is null)
        {
            return null;
        }

        string? name = Clean(row.GetString("Name"));
        string? description = Clean(row.GetString("Description"));
        string displayName = name ?? description ?? row.GetString("ID") ?? "(unnamed product)";

        string? partial = PartialKey.Normalize(partialRaw);
        if (partial is null)
        {
            warnings?.Add($"{displayName}: PartialProductKey '{Clean(partialRaw)}' is not five key characters; left empty.");
        }

        long? statusCode = row.GetInt64("LicenseStatus");
        LicenseStatus status = statusCode is { } code ? LicenseStatuses.FromCode(code) : LicenseStatus.Unknown;
        if (statusCode is null)
        {
            warnings?.Add($"{displayName}: LicenseStatus missing or unreadable; status is Unknown.");
        }

        ChannelInfo channel = ChannelParser.Parse(row.GetString("ProductKeyChannel"), description);
        bool? isAddon = row.GetBool("LicenseIsAddon");
        string? applicationId = NormalizeGuid(row.GetString("ApplicationID"));

        DateTimeOffset? evaluationEnd = null;
        switch (row.GetDate("EvaluationEndDate", out DateTimeOffset end))
        {
            case WmiValues.DateReadResult.Date:
                evaluationEnd = end;
                break;
            case WmiValues.DateReadResult.Ambiguous:
                warnings?.Add($"{displayName}: EvaluationEndDate '{row.GetString("EvaluationEndDate")}' is locale-formatted; not read (use a JSON or wmic dump).");
                break;
        }

        long? reason = row.GetInt64("LicenseStatusReason");
        ProductKind kind = ProductClassifier.Classify(applicationId, isAddon, name, description);

        return new LicensedProductV1
        {
            Name = displayName,
            Description = description,
            Kind = kind,
            ApplicationId = applicationId,
            ActivationId = NormalizeGuid(row.GetString("ID")),
            LicenseFamily = Clean(row.GetString("LicenseFamily")),
            IsAddon = isAddon ?? kind == ProductKind.WindowsAddon,
            Channel = channel.Channel,
            ChannelDetail = channel.Detail,
            ChannelRaw = Clean(channel.Raw),
            PartialKey = partial,
            KeyFingerprint = keyFingerprint,
            ProductKeyId = Clean(row.GetString("ProductKeyID")),
            LicenseStatusCode = statusCode is { } c ? (int)Math.Clamp(c, int.MinValue, int.MaxValue) : -1,
            LicenseStatus = status,
            LicenseStatusReason = reason is { } r ? LicenseStatuses.FormatReason(r) : null,
            GraceMinutes = row.GetInt64("GracePeriodRemaining"),
            EvaluationEndDate = evaluationEnd,
            KmsHost = Clean(row.GetString("KeyManagementServiceMachine")),
            KmsPort = ToPort(row.GetInt64("KeyManagementServicePort")),
            DiscoveredKmsHost = Clean(row.GetString("DiscoveredKeyManagementServiceMachineName")),
            DiscoveredKmsPort = ToPort(row.GetInt64("DiscoveredKeyManagementServiceMachinePort")),
            DiscoveredKmsIpAddress = Clean(row.GetString("DiscoveredKeyManagementServiceMachineIpAddress")),
            ActivationIntervalMinutes = row.GetInt64("VLActivationInterval"),
            RenewalIntervalMinutes = row.GetInt64("VLRenewalInterval"),
            RemainingAppRearmCount = row.GetInt64("RemainingAppReArmCount"),
            RemainingSkuRearmCount = row.GetInt64("RemainingSkuReArmCount"),
            IsKmsHost = row.GetBool("IsKeyManagementServiceMachine") is { } host ? host : null,
            KmsCurrentCount = row.GetInt64("KeyManagementServiceCurrentCount"),
        };
    }

    internal static string? Clean(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        // Defence in depth: nothing copied from a dump may carry a full key.
        return FullKeyScanner.Redact(text.Trim());
    }

    internal static string? NormalizeGuid(string? text)
    {
        // Anything that is not a GUID (e.g. "<REDACTED_GUID>" in a shared dump) is dropped rather than kept as an id.
        string? trimmed = text?.Trim().Trim('{', '}');
        return Guid.TryParse(trimmed, out Guid g) ? g.ToString("D") : null;
    }

    // Port 0 is "not set" in WMI; we keep 0 so the reader can tell "default 1688" from "not reported".
    internal static int? ToPort(long? port) => port is >= 0 and <= 65535 ? (int)port : null;
}
