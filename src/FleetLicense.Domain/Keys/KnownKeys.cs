namespace FleetLicense.Domain.Keys;

/// <summary>Why a key is well known.</summary>
public enum KnownKeyKind
{
    /// <summary>Generic Volume License Key: makes Windows a KMS client. Published by Microsoft, except the Home ones.</summary>
    Gvlk,

    /// <summary>Generic install key: selects an edition during setup and never activates by itself.</summary>
    GenericInstallKey,
}

/// <summary>A public, well-known product key.</summary>
/// <param name="Key">The key, dashed.</param>
/// <param name="EditionId">The EditionID it installs, e.g. <c>Professional</c>.</param>
/// <param name="Kind">GVLK or generic install key.</param>
/// <param name="Label">Human description, e.g. <c>Windows 10/11 Pro</c>.</param>
/// <param name="PublishedByMicrosoft">False for the Home GVLKs, which circulate only in activators.</param>
public sealed record KnownKey(string Key, string EditionId, KnownKeyKind Kind, string Label, bool PublishedByMicrosoft)
{
    /// <summary>The last five characters, as WMI reports them.</summary>
    public string PartialKey => Key[^5..];
}

/// <summary>
/// The published KMS client keys (GVLKs) and the generic install keys of Windows 10/11 and Server 2016–2025
/// (sources: Microsoft's KMS client activation keys page; MAS key tables; see DOMAIN.md §6).
/// WMI only shows the last five characters, so lookups by partial key are the common case.
/// </summary>
public static class KnownKeys
{
    /// <summary>Every known key.</summary>
    public static IReadOnlyList<KnownKey> All { get; } =
    [
        Gvlk("W269N-WFGWX-YVC9B-4J6C9-T83GX", "Professional", "Windows 10/11 Pro"),
        Gvlk("MH37W-N47XK-V7XM9-C7227-GCQG9", "ProfessionalN", "Windows 10/11 Pro N"),
        Gvlk("NRG8B-VKK3Q-CXVCJ-9G2XF-6Q84J", "ProfessionalWorkstation", "Windows 10/11 Pro for Workstations"),
        Gvlk("9FNHH-K3HBT-3W4TD-6383H-6XYWF", "ProfessionalWorkstationN", "Windows 10/11 Pro for Workstations N"),
        Gvlk("6TP4R-GNPTD-KYYHQ-7B7DP-J447Y", "ProfessionalEducation", "Windows 10/11 Pro Education"),
        Gvlk("YVWGF-BXNMC-HTQYQ-CPQ99-66QFC", "ProfessionalEducationN", "Windows 10/11 Pro Education N"),
        Gvlk("NW6C2-QMPVW-D7KKK-3GKT6-VCFB2", "Education", "Windows 10/11 Education"),
        Gvlk("2WH4N-8QGBV-H22JP-CT43Q-MDWWJ", "EducationN", "Windows 10/11 Education N"),
        Gvlk("NPPR9-FWDCX-D2C8J-H872K-2YT43", "Enterprise", "Windows 10/11 Enterprise"),
        Gvlk("DPH2V-TTNVB-4X9Q3-TJR4H-KHJW4", "EnterpriseN", "Windows 10/11 Enterprise N"),
        Gvlk("YYVX9-NTFWV-6MDM3-9PT4T-4M68B", "EnterpriseG", "Windows 10/11 Enterprise G"),
        Gvlk("44RPN-FTY23-9VTTB-MP9BX-T84FV", "EnterpriseGN", "Windows 10/11 Enterprise G N"),
        Gvlk("M7XTQ-FN8P6-TTKYV-9D4CC-J462D", "EnterpriseS", "Windows 10/11 Enterprise LTSC 2019/2021/2024"),
        Gvlk("92NFX-8DJQP-P6BBQ-THF9C-7CG2H", "EnterpriseSN", "Windows 10/11 Enterprise N LTSC 2019/2021/2024"),
        Gvlk("KBN8V-HFGQ4-MGXVD-347P6-PDQGT", "IoTEnterpriseS", "Windows IoT Enterprise LTSC 2021/2024"),
        Gvlk("DCPHK-NFMTC-H88MJ-PFHPY-QJ4BJ", "EnterpriseS", "Windows 10 Enterprise LTSB 2016"),
        Gvlk("WNMTR-4C88C-JK8YV-HQ7T2-76DF9", "EnterpriseS", "Windows 10 Enterprise LTSB 2015"),
        Gvlk("TVRH6-WHNXV-R9WG3-9XRFY-MY832", "ServerStandard", "Windows Server 2025 Standard"),
        Gvlk("D764K-2NDRG-47T6Q-P8T8W-YP6DF", "ServerDatacenter", "Windows Server 2025 Datacenter"),
        Gvlk("VDYBN-27WPP-V4HQT-9VMD4-VMK7H", "ServerStandard", "Windows Server 2022 Standard"),
        Gvlk("WX4NM-KYWYW-QJJR4-XV3QB-6VM33", "ServerDatacenter", "Windows Server 2022 Datacenter"),
        Gvlk("N69G4-B89J2-4G8F4-WWYCC-J464C", "ServerStandard", "Windows Server 2019 Standard"),
        Gvlk("WMDGN-G9PQG-XVVXX-R3X43-63DFG", "ServerDatacenter", "Windows Server 2019 Datacenter"),
        Gvlk("WC2BQ-8NRM3-FDDYY-2BFGV-KHKQY", "ServerStandard", "Windows Server 2016 Standard"),
        Gvlk("CB7KF-BWN84-R7R2Y-793K2-8XDDG", "ServerDatacenter", "Windows Server 2016 Datacenter"),

        // Home has no volume licensing; these GVLKs exist but Microsoft does not publish them.
        new("TX9XD-98N7V-6WMQ6-BX7FG-H8Q99", "Core", KnownKeyKind.Gvlk, "Windows 10/11 Home (unpublished GVLK)", false),
        new("3KHY7-WNT83-DGQKR-F7HPR-844BM", "CoreN", KnownKeyKind.Gvlk, "Windows 10/11 Home N (unpublished GVLK)", false),
        new("7HNRX-D7KGG-3K4RQ-4WPJ4-YTDFH", "CoreSingleLanguage", KnownKeyKind.Gvlk, "Windows 10/11 Home Single Language (unpublished GVLK)", false),
        new("PVMJN-6DFY6-9CCP6-7BKTT-D3WVR", "CoreCountrySpecific", KnownKeyKind.Gvlk, "Windows 10/11 Home China (unpublished GVLK)", false),

        Generic("YTMG3-N6DKC-DKB77-7M9GH-8HVX7", "Core", "Windows 10/11 Home"),
        Generic("4CPRK-NM3K3-X6XXQ-RXX86-WXCHW", "CoreN", "Windows 10/11 Home N"),
        Generic("BT79Q-G7N6G-PGBYW-4YWX6-6F4BT", "CoreSingleLanguage", "Windows 10/11 Home Single Language"),
        Generic("N2434-X9D7W-8PF6X-8DV9T-8TYMD", "CoreCountrySpecific", "Windows 10/11 Home China"),
        Generic("VK7JG-NPHTM-C97JM-9MPGT-3V66T", "Professional", "Windows 10/11 Pro"),
        Generic("2B87N-8KFHP-DKV6R-Y2C8J-PKCKT", "ProfessionalN", "Windows 10/11 Pro N"),
        Generic("DXG7C-N36C4-C4HTG-X4T3X-2YV77", "ProfessionalWorkstation", "Windows 10/11 Pro for Workstations"),
        Generic("8PTT6-RNW4C-6V7J2-C2D3X-MHBPB", "ProfessionalEducation", "Windows 10/11 Pro Education"),
        Generic("YNMGQ-8RYV3-4PGQ3-C8XTP-7CFBY", "Education", "Windows 10/11 Education"),
        Generic("XGVPP-NMH47-7TTHJ-W3FW7-8HV2C", "Enterprise", "Windows 10/11 Enterprise (OEM:NONSLP)"),
        Generic("XQQYW-NFFMW-XJPBH-K8732-CKFFD", "IoTEnterprise", "Windows 10/11 IoT Enterprise (OEM:DM)"),
    ];

    private static readonly Dictionary<string, KnownKey> ByKey =
        All.ToDictionary(k => ProductKeyText.Normalize(k.Key)!, StringComparer.Ordinal);

    private static readonly ILookup<string, KnownKey> ByPartial =
        All.ToLookup(k => k.PartialKey, StringComparer.Ordinal);

    /// <summary>Looks up a full key (any case, with or without dashes).</summary>
    public static KnownKey? FindByKey(string? key)
    {
        string? normalized = ProductKeyText.Normalize(key);
        return normalized is not null && ByKey.TryGetValue(normalized, out KnownKey? known) ? known : null;
    }

    /// <summary>Looks up a partial key (last five characters). Returns null when none or more than one key ends that way.</summary>
    public static KnownKey? FindByPartialKey(string? partialKey)
    {
        string? normalized = PartialKey.Normalize(partialKey);
        if (normalized is null)
        {
            return null;
        }

        KnownKey[] matches = [.. ByPartial[normalized]];
        return matches.Length == 1 ? matches[0] : null;
    }

    private static KnownKey Gvlk(string key, string edition, string label) => new(key, edition, KnownKeyKind.Gvlk, label, true);

    private static KnownKey Generic(string key, string edition, string label) => new(key, edition, KnownKeyKind.GenericInstallKey, label, true);
}
