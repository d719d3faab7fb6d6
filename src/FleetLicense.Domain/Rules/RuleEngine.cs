using System.Globalization;
using System.Net;

using FleetLicense.Contracts;
using FleetLicense.Domain.Keys;
using FleetLicense.Domain.Licensing;

namespace FleetLicense.Domain.Rules;

/// <summary>
/// Deterministic per-machine detection rules over a <see cref="MachineLicensingState"/>. The same input and
/// policy always give the same findings in the same order (severity, then rule id, then product). No rule
/// depends on the current time: grace is measured in the minutes Windows reported.
/// </summary>
public static class RuleEngine
{
    /// <summary>The longest a genuine KMS client activation lasts: 180 days, in minutes.</summary>
    public const long MaxKmsActivationMinutes = 180L * 24 * 60;

    /// <summary>The longest initial or additional grace Windows grants: 30 days, in minutes.</summary>
    public const long MaxGraceMinutes = 30L * 24 * 60;

    private const string ChangeKeyAdvice =
        "Install a key your organisation owns for this edition (slmgr /ipk), or reinstall with the edition you are licensed for.";

    /// <summary>Evaluates every rule.</summary>
    public static IReadOnlyList<Finding> Evaluate(MachineLicensingState state, DetectionPolicy? policy = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        policy ??= DetectionPolicy.Default;
        var findings = new List<Finding>();
        LicensedProductV1? windows = state.WindowsProduct;
        string? edition = state.EditionId;

        if (windows is not null)
        {
            VolumeKeyOnConsumer(state, windows, edition, policy, findings);
            EditionDiffersFromBios(state, edition, findings);
            GenericKey(windows, findings);
        }

        foreach (LicensedProductV1 product in state.Products)
        {
            KmsHosts(state, product, policy, findings);
            Kms38(product, findings);
            if (product.Kind is ProductKind.Windows or ProductKind.Office && (product.Kind != ProductKind.Windows || ReferenceEquals(product, windows)))
            {
                Activation(product, policy, findings);
                SuspiciousGrace(product, findings);
            }

            KmsHostKeyOnClient(product, edition, findings);
            Esu(product, policy, findings);
        }

        return [.. findings
            .OrderByDescending(f => f.Severity)
            .ThenBy(f => f.Rule, StringComparer.Ordinal)
            .ThenBy(f => f.Product, StringComparer.Ordinal)
            .ThenBy(f => f.Message, StringComparer.Ordinal)];
    }

    private static bool IsVolumeClient(LicensedProductV1 p) => p.Channel is LicenseChannel.MAK or LicenseChannel.KMS;

    private static void VolumeKeyOnConsumer(MachineLicensingState state, LicensedProductV1 windows, string? edition, DetectionPolicy policy, List<Finding> findings)
    {
        if (!IsVolumeClient(windows))
        {
            return;
        }

        Dictionary<string, string> evidence = ProductEvidence(windows);
        Add(evidence, "editionId", edition);
        if (EditionCatalog.Categorize(edition) == EditionCategory.Consumer)
        {
            findings.Add(new Finding
            {
                Rule = RuleIds.VolumeKeyOnConsumerEdition,
                Severity = FindingSeverity.Critical,
                Title = "Volume licence key on a Home edition",
                Message = $"Windows {edition} is running with a {windows.Channel} key. Home editions have no volume licensing, so no legitimate MAK or KMS licence covers this machine; this is the signature of an activator.",
                Advice = "Buy a Home or Pro licence for the device (or use its OEM key), remove the volume key and activate properly. " + ChangeKeyAdvice,
                Product = windows.Name,
                ActivationId = windows.ActivationId,
                Evidence = evidence,
            });
            return;
        }

        var reasons = new List<string>();
        string? firmwareEdition = state.Machine.FirmwareKey?.Edition;
        if (policy.ConsumerDevice.HomeFirmwareKeyMeansConsumer && EditionCatalog.Categorize(firmwareEdition) == EditionCategory.Consumer)
        {
            reasons.Add($"its firmware (OA3) key is for Windows {firmwareEdition}");
            Add(evidence, "firmwareKeyEdition", firmwareEdition);
        }

        if (policy.ConsumerDevice.UnjoinedMeansConsumer && state.Machine.JoinType == DirectoryJoinType.None)
        {
            reasons.Add("it is joined to neither Active Directory nor Entra ID");
            Add(evidence, "joinType", state.Machine.JoinType.ToString());
        }

        if (reasons.Count == 0)
        {
            return;
        }

        findings.Add(new Finding
        {
            Rule = RuleIds.VolumeKeyOnConsumerDevice,
            Severity = FindingSeverity.Warning,
            Title = "Volume licence key on a consumer device",
            Message = $"This device looks like a consumer PC ({string.Join("; ", reasons)}) but Windows is activated with a {windows.Channel} key. Volume licences cover the organisation's managed devices; a home laptop upgraded to Pro and KMS-activated is the classic pattern.",
            Advice = "Check the device is owned and managed by the organisation and covered by your volume agreement; otherwise restore its OEM edition and key.",
            Product = windows.Name,
            ActivationId = windows.ActivationId,
            Evidence = evidence,
        });
    }

    private static void KmsHosts(MachineLicensingState state, LicensedProductV1 product, DetectionPolicy policy, List<Finding> findings)
    {
        var hosts = new List<(string Field, string Host)>();
        AddHost(hosts, "kmsHost", product.KmsHost);
        AddHost(hosts, "discoveredKmsHost", product.DiscoveredKmsHost);
        AddHost(hosts, "discoveredKmsIpAddress", product.DiscoveredKmsIpAddress);
        if (product.Channel == LicenseChannel.KMS && product.KmsHost is null)
        {
            // The machine-wide host applies to KMS clients without a host of their own.
            AddHost(hosts, "machineKmsHost", state.Machine.KmsHost);
        }

        foreach ((string field, string host) in hosts.DistinctBy(h => h.Host, StringComparer.OrdinalIgnoreCase))
        {
            Dictionary<string, string> evidence = ProductEvidence(product);
            evidence[field] = host;
            // The discovered IP is the address of the discovered host: an allowlisted name vouches for it.
            bool allowlisted = KmsHostNames.IsAllowlisted(host, policy.KmsAllowlist)
                || (field == "discoveredKmsIpAddress" && KmsHostNames.Normalize(product.DiscoveredKmsHost) is { } name && KmsHostNames.IsAllowlisted(name, policy.KmsAllowlist));
            if (KmsHostNames.IsLoopback(host))
            {
                findings.Add(new Finding
                {
                    Rule = RuleIds.KmsLoopback,
                    Severity = FindingSeverity.Critical,
                    Title = "KMS host is this machine (local emulator)",
                    Message = $"{product.Name} activates against {host}, the machine itself. Only an activator's local KMS emulator answers there (MAS KMS38 pins 127.0.0.2); the activation is not genuine.",
                    Advice = "Remove the activator (check for SppExtComObjHook.dll and hosts-file KMS entries), clear the host with slmgr /ckms, then activate against your own KMS host or with a key you own.",
                    Product = product.Name,
                    ActivationId = product.ActivationId,
                    Evidence = evidence,
                });
            }
            else if (KmsHostNames.IsPublicEmulator(host, policy.PublicKmsEmulatorHosts) || (!allowlisted && string.Equals(host, KnownKmsHosts.MasParkingAddress, StringComparison.Ordinal)))
            {
                findings.Add(new Finding
                {
                    Rule = RuleIds.KmsPublicEmulator,
                    Severity = FindingSeverity.Critical,
                    Title = "KMS host is a public KMS emulator",
                    Message = $"{product.Name} uses {host}, a KMS host known from activator scripts. Public KMS servers activate any machine without a licence; the activation is not genuine.",
                    Advice = "Clear the host with slmgr /ckms, remove any activator, and activate against your own KMS host or with a key you own.",
                    Product = product.Name,
                    ActivationId = product.ActivationId,
                    Evidence = evidence,
                });
            }
            else if (policy.KmsAllowlist.Count > 0 && !allowlisted)
            {
                findings.Add(new Finding
                {
                    Rule = RuleIds.KmsNotAllowlisted,
                    Severity = FindingSeverity.Warning,
                    Title = "KMS host is not one of yours",
                    Message = $"{product.Name} uses KMS host {host}, which is not on your list of KMS hosts. Activation from a host you do not run is not covered by your volume licence.",
                    Advice = "If the host is yours, add it to the KMS allowlist; otherwise clear it with slmgr /ckms and activate against your own KMS host.",
                    Product = product.Name,
                    ActivationId = product.ActivationId,
                    Evidence = evidence,
                });
            }
        }
    }

    private static void Kms38(LicensedProductV1 product, List<Finding> findings)
    {
        if (product.Channel != LicenseChannel.KMS || product.GraceMinutes is not { } minutes || minutes <= MaxKmsActivationMinutes)
        {
            return;
        }

        Dictionary<string, string> evidence = ProductEvidence(product);
        evidence["graceMinutes"] = minutes.ToString(CultureInfo.InvariantCulture);
        evidence["graceDays"] = (minutes / 1440).ToString(CultureInfo.InvariantCulture);
        findings.Add(new Finding
        {
            Rule = RuleIds.Kms38Activation,
            Severity = FindingSeverity.Critical,
            Title = "KMS activation far beyond 180 days (KMS38)",
            Message = $"{product.Name} is a KMS client whose activation lasts {minutes / 1440} days. A genuine KMS activation never exceeds 180 days; activations running to 2038 or beyond are made by KMS38-style activators.",
            Advice = "Treat the machine as unlicensed: remove the activator, reinstall a key you own (slmgr /ipk) or point it at your KMS host, and activate again.",
            Product = product.Name,
            ActivationId = product.ActivationId,
            Evidence = evidence,
        });
    }

    private static void Activation(LicensedProductV1 product, DetectionPolicy policy, List<Finding> findings)
    {
        Dictionary<string, string> evidence = ProductEvidence(product);
        Add(evidence, "licenseStatusReason", product.LicenseStatusReason);
        Add(evidence, "graceMinutes", product.GraceMinutes?.ToString(CultureInfo.InvariantCulture));
        string what = product.Kind == ProductKind.Office ? "Office" : "Windows";

        if (StatusBuckets.Of(product) == StatusBucket.NotActivated)
        {
            findings.Add(product.LicenseStatus == LicenseStatus.Unknown
                ? new Finding
                {
                    Rule = RuleIds.NotActivated,
                    Severity = FindingSeverity.Warning,
                    Title = $"{what} reports an unknown licence status",
                    Message = $"{product.Name} reports licence status {product.LicenseStatusCode}, which Windows does not document; it cannot be counted as activated.",
                    Advice = "Run slmgr /dlv on the machine to see its state.",
                    Product = product.Name,
                    ActivationId = product.ActivationId,
                    Evidence = evidence,
                }
                : new Finding
                {
                    Rule = RuleIds.NotActivated,
                    Severity = FindingSeverity.Critical,
                    Title = $"{what} is not activated",
                    Message = $"{product.Name} reports licence status {product.LicenseStatusCode}: {LicenseStatuses.Describe(product.LicenseStatus)}. The installation is not licensed{(product.LicenseStatusReason is null ? string.Empty : $" (reason {product.LicenseStatusReason})")}, and users see activation nags and lose personalisation.",
                    Advice = "Activate with a key the organisation owns (slmgr /ipk, then slmgr /ato), or check why KMS activation fails (slmgr /dlv).",
                    Product = product.Name,
                    ActivationId = product.ActivationId,
                    Evidence = evidence,
                });
            return;
        }

        long window = (long)policy.GraceWarningDays * 1440;
        if (LicenseStatuses.IsGrace(product.LicenseStatus))
        {
            string left = product.GraceMinutes is { } g ? $"{Days(g)} left" : "time left unknown";
            findings.Add(new Finding
            {
                Rule = RuleIds.GracePeriod,
                Severity = FindingSeverity.Warning,
                Title = $"{what} is running on a grace period",
                Message = $"{product.Name} is not activated: {LicenseStatuses.Describe(product.LicenseStatus)}, {left}. When the grace period ends it falls to notification mode.",
                Advice = product.LicenseStatus == LicenseStatus.OOTGrace
                    ? "Reactivate: hardware changed or the KMS activation expired; check the machine can reach your KMS host, or run slmgr /ato."
                    : "Activate it before the grace period ends (slmgr /ato, or install a key the organisation owns).",
                Product = product.Name,
                ActivationId = product.ActivationId,
                Evidence = evidence,
            });

            if (product.GraceMinutes is { } minutes && minutes <= window)
            {
                findings.Add(new Finding
                {
                    Rule = RuleIds.GraceEnding,
                    Severity = FindingSeverity.Critical,
                    Title = "Grace period ends soon",
                    Message = $"The grace period of {product.Name} ends in {Days(minutes)}, within your {policy.GraceWarningDays}-day warning window.",
                    Advice = "Activate now; after the grace period the product is unlicensed.",
                    Product = product.Name,
                    ActivationId = product.ActivationId,
                    Evidence = evidence,
                });
            }
        }
        else if (product.LicenseStatus == LicenseStatus.Licensed && product.Channel == LicenseChannel.KMS
            && product.GraceMinutes is { } kmsMinutes and > 0 && kmsMinutes <= window)
        {
            findings.Add(new Finding
            {
                Rule = RuleIds.GraceEnding,
                Severity = FindingSeverity.Warning,
                Title = "KMS activation expires soon",
                Message = $"The KMS activation of {product.Name} expires in {Days(kmsMinutes)}. A KMS client renews every 7 days, so it has not reached its KMS host for months.",
                Advice = "Check the machine can reach your KMS host (DNS _vlmcs._tcp, port 1688) and run slmgr /ato.",
                Product = product.Name,
                ActivationId = product.ActivationId,
                Evidence = evidence,
            });
        }
    }

    private static void SuspiciousGrace(LicensedProductV1 product, List<Finding> findings)
    {
        var reasons = new List<string>();
        Dictionary<string, string> evidence = ProductEvidence(product);
        if (product.LicenseStatus is LicenseStatus.OOBGrace or LicenseStatus.OOTGrace or LicenseStatus.NonGenuineGrace
            && product.GraceMinutes is { } minutes && minutes > MaxGraceMinutes)
        {
            reasons.Add($"its grace period has {Days(minutes)} left, more than the 30 days Windows grants");
            evidence["graceMinutes"] = minutes.ToString(CultureInfo.InvariantCulture);
        }

        if (LicenseStatuses.IsGrace(product.LicenseStatus) && product.RemainingSkuRearmCount == 0)
        {
            reasons.Add("it has used up all its rearms and is still in grace");
            evidence["remainingSkuRearmCount"] = "0";
        }

        if (reasons.Count == 0)
        {
            return;
        }

        findings.Add(new Finding
        {
            Rule = RuleIds.SuspiciousGrace,
            Severity = FindingSeverity.Warning,
            Title = "Grace period has been tampered with",
            Message = $"{product.Name} is unactivated and {string.Join("; ", reasons)}. Repeated rearms or grace resets keep a product running without a licence.",
            Advice = "Activate the machine with a key the organisation owns; look for rearm scripts or grace-reset tools.",
            Product = product.Name,
            ActivationId = product.ActivationId,
            Evidence = evidence,
        });
    }

    private static void EditionDiffersFromBios(MachineLicensingState state, string? edition, List<Finding> findings)
    {
        string? firmware = state.Machine.FirmwareKey?.Edition;
        if (firmware is null || edition is null || string.Equals(firmware, edition, StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        var evidence = new Dictionary<string, string> { ["editionId"] = edition, ["firmwareKeyEdition"] = firmware };
        Add(evidence, "firmwareKeyDescription", state.Machine.FirmwareKey?.Description);
        findings.Add(new Finding
        {
            Rule = RuleIds.EditionDiffersFromBios,
            Severity = FindingSeverity.Info,
            Title = "Edition differs from the firmware key",
            Message = $"Windows runs {edition}, but the key the PC maker put in firmware is for {firmware}. That is normal after a paid upgrade or a volume re-image, but the {firmware} licence does not cover {edition} by itself.",
            Advice = $"Make sure a licence for {edition} exists for this device (upgrade purchase, volume agreement or subscription).",
            Evidence = evidence,
        });
    }

    private static void GenericKey(LicensedProductV1 windows, List<Finding> findings)
    {
        if (KnownKeys.FindByPartialKey(windows.PartialKey) is not { Kind: KnownKeyKind.GenericInstallKey } generic)
        {
            return;
        }

        Dictionary<string, string> evidence = ProductEvidence(windows);
        evidence["genericKeyFor"] = generic.Label;
        bool activated = windows.LicenseStatus == LicenseStatus.Licensed;
        findings.Add(new Finding
        {
            Rule = RuleIds.GenericKeyInstalled,
            Severity = activated ? FindingSeverity.Info : FindingSeverity.Warning,
            Title = "Generic install key",
            Message = activated
                ? $"{windows.Name} has the generic {generic.Label} install key, which never activates by itself; Windows is activated anyway, so it holds a digital licence (or a subscription upgrade) tied to the hardware."
                : $"{windows.Name} has the generic {generic.Label} install key, which only selects the edition and can never activate.",
            Advice = activated
                ? "No action needed if the digital licence is the organisation's; record it, because the key itself proves nothing."
                : "Install the organisation's real key for this edition (slmgr /ipk) and activate.",
            Product = windows.Name,
            ActivationId = windows.ActivationId,
            Evidence = evidence,
        });
    }

    private static void KmsHostKeyOnClient(LicensedProductV1 product, string? edition, List<Finding> findings)
    {
        if (product.Channel != LicenseChannel.CSVLK || product.Kind == ProductKind.Office
            || EditionCatalog.Categorize(edition) == EditionCategory.Server || EditionCatalog.Categorize(edition) == EditionCategory.Unknown)
        {
            return;
        }

        Dictionary<string, string> evidence = ProductEvidence(product);
        Add(evidence, "editionId", edition);
        findings.Add(new Finding
        {
            Rule = RuleIds.KmsHostKeyOnClient,
            Severity = FindingSeverity.Warning,
            Title = "KMS host key on a workstation",
            Message = $"{product.Name} has a KMS host key (CSVLK) on a {edition} workstation. Host keys belong only on your KMS servers; one here is either misplaced or leaked.",
            Advice = "Replace it with the GVLK for the edition (slmgr /ipk) and check where the host key came from.",
            Product = product.Name,
            ActivationId = product.ActivationId,
            Evidence = evidence,
        });
    }

    private static void Esu(LicensedProductV1 product, DetectionPolicy policy, List<Finding> findings)
    {
        if (policy.EsuEntitled != false || product.Kind != ProductKind.WindowsAddon || product.LicenseStatus != LicenseStatus.Licensed
            || !product.Name.Contains("ESU", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        findings.Add(new Finding
        {
            Rule = RuleIds.EsuWithoutEntitlement,
            Severity = FindingSeverity.Critical,
            Title = "ESU licence the organisation did not buy",
            Message = $"{product.Name} is licensed, but the organisation has not bought Extended Security Updates. ESU add-ons licensed without a purchase come from tools such as TSforge.",
            Advice = "Remove the add-on key (slmgr /upk with its activation id) or buy ESU for this device.",
            Product = product.Name,
            ActivationId = product.ActivationId,
            Evidence = ProductEvidence(product),
        });
    }

    private static Dictionary<string, string> ProductEvidence(LicensedProductV1 product)
    {
        var evidence = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["product"] = product.Name,
            ["channel"] = product.Channel.ToString(),
            ["licenseStatus"] = $"{product.LicenseStatusCode} ({product.LicenseStatus})",
        };
        Add(evidence, "channelRaw", product.ChannelRaw);
        Add(evidence, "partialKey", product.PartialKey);
        return evidence;
    }

    private static void Add(Dictionary<string, string> evidence, string key, string? value)
    {
        if (!string.IsNullOrWhiteSpace(value))
        {
            evidence[key] = value;
        }
    }

    private static void AddHost(List<(string Field, string Host)> hosts, string field, string? host)
    {
        string? normalized = KmsHostNames.Normalize(host);
        if (normalized is not null)
        {
            hosts.Add((field, normalized));
        }
    }

    private static string Days(long minutes) =>
        minutes >= 1440
            ? $"{minutes / 1440} day(s)"
            : $"{minutes} minute(s)";
}
