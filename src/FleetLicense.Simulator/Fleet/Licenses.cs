using System.Globalization;

using FleetLicense.Contracts;
using FleetLicense.Domain.Keys;
using FleetLicense.Domain.Licensing;

namespace FleetLicense.Simulator.Fleet;

/// <summary>Builds <see cref="LicenseTemplate"/>s the way Windows and Office report them.</summary>
internal static class Licenses
{
    public const string CorporateKms1 = "kms01.corp.example";
    public const string CorporateKms2 = "kms02.corp.example";
    public const string CorporateKms1Ip = "10.20.0.11";
    public const string CorporateKms2Ip = "10.20.0.12";

    /// <summary>Where MAS parks the KMS name after activating by IP.</summary>
    public const string MasParkingAddress = "10.0.0.10";

    /// <summary>KMS38's host pin.</summary>
    public const string Kms38Loopback = "127.0.0.2";

    public const string ReasonOk = "0x00000000";
    public const string ReasonKmsActivated = "0x4004F040";
    public const string ReasonOobGrace = "0x4004F00C";
    public const string ReasonOotGrace = "0x4004F00D";
    public const string ReasonExtendedGrace = "0x4004F00E";
    public const string ReasonGenericKeyNotActivated = "0xC004F034";
    public const string ReasonGraceExpired = "0xC004F009";

    /// <summary>180 days: the validity of a KMS activation.</summary>
    public const long KmsValidityMinutes = 180L * 24 * 60;

    /// <summary>45 days: the most a KMS activation of Home lasts.</summary>
    public const long HomeKmsValidityMinutes = 45L * 24 * 60;

    /// <summary>Public KMS emulators the simulator uses (all on the server's built-in list).</summary>
    public static IReadOnlyList<string> PublicEmulators { get; } =
        ["kms8.msguides.com", "kms.digiboy.ir", "kms.03k.org", "kms.loli.beer", "kms.msguides.com", "kms.chinancce.com"];

    /// <summary>Activation ids of the KMS client SKUs Microsoft documents; other SKUs get a stable made-up id.</summary>
    private static readonly Dictionary<string, string> VolumeActivationIds = new(StringComparer.Ordinal)
    {
        ["Professional"] = "2de67392-b7a7-462a-b1ca-108dd189f588",
        ["Enterprise"] = "73111121-5638-40f6-bc11-f1d7b0d64300",
        ["Education"] = "e0c42288-980c-4788-a014-c080d2e1926e",
        ["Core"] = "58e97c99-f377-4ef1-81d5-4ad5522b5fd8",
    };

    public static LicenseTemplate Windows(
        string edition,
        string channelRaw,
        string key,
        LicenseStatus status,
        string reason,
        string? productKeyId,
        GraceKind grace = GraceKind.None) =>
        new()
        {
            Kind = ProductKind.Windows,
            Name = $"Windows(R), {edition} edition",
            Description = $"Windows(R) Operating System, {DescriptionTag(channelRaw)} channel",
            ApplicationId = ApplicationIds.Windows,
            ActivationId = WindowsActivationId(edition, channelRaw),
            LicenseFamily = edition,
            ChannelRaw = channelRaw,
            FullKey = key,
            ProductKeyId = productKeyId,
            Status = status,
            Reason = reason,
            Grace = grace,
            KmsValidityMinutes = EditionCatalog.Categorize(edition) == EditionCategory.Consumer ? HomeKmsValidityMinutes : KmsValidityMinutes,
        };

    /// <summary>An activated KMS client of the corporate host <paramref name="host"/> (found through DNS SRV).</summary>
    public static LicenseTemplate CorporateKmsClient(string edition, string osBuild, string host) =>
        Windows(edition, "Volume:GVLK", Gvlk(edition, osBuild), LicenseStatus.Licensed, ReasonKmsActivated, null, GraceKind.KmsRenewal) with
        {
            DiscoveredKmsHost = host,
            DiscoveredKmsIpAddress = host == CorporateKms2 ? CorporateKms2Ip : CorporateKms1Ip,
        };

    public static LicenseTemplate OfficeKms(int version, string host) =>
        new()
        {
            Kind = ProductKind.Office,
            Name = version == 19 ? "Office 19, Office19ProPlus2019VL_KMS_Client_AE edition" : "Office 16, Office16ProPlusVL_KMS_Client edition",
            Description = $"Office {version}, VOLUME_KMSCLIENT channel",
            ApplicationId = ApplicationIds.Office,
            ActivationId = version == 19 ? "85dd8b5f-eaa4-4af3-a628-cce9e77c9a03" : "d450596f-894d-49e0-966a-fd39ed4c4c64",
            LicenseFamily = version == 19 ? "Office19ProPlus2019VL_KMS_Client_AE" : "Office16ProPlusVL_KMS_Client",
            ChannelRaw = "Volume:GVLK",

            // Office Professional Plus 2019 / 2016 KMS client keys, published by Microsoft.
            FullKey = version == 19 ? "NMMKJ-6RK4F-KMJVX-8D9MJ-6MWKP" : "XQNVK-8JYDB-WJ9W3-YJ8YR-WFG99",
            Status = LicenseStatus.Licensed,
            Reason = ReasonKmsActivated,
            Grace = GraceKind.KmsRenewal,
            DiscoveredKmsHost = host,
            DiscoveredKmsIpAddress = host == CorporateKms2 ? CorporateKms2Ip : host == CorporateKms1 ? CorporateKms1Ip : null,
        };

    public static LicenseTemplate OfficeRetail(string key, string productKeyId) =>
        new()
        {
            Kind = ProductKind.Office,
            Name = "Office 16, Office16HomeBusinessR_Retail edition",
            Description = "Office 16, RETAIL channel",
            ApplicationId = ApplicationIds.Office,
            ActivationId = Seeded.FromName("Office16HomeBusinessR_Retail").ToString(),
            LicenseFamily = "Office16HomeBusinessR_Retail",
            ChannelRaw = "Retail",
            FullKey = key,
            ProductKeyId = productKeyId,
            Status = LicenseStatus.Licensed,
            Reason = ReasonOk,
        };

    /// <summary>Windows 10 Extended Security Updates, year 1: an add-on licensed with the organisation's ESU MAK.</summary>
    public static LicenseTemplate Esu(string key, string productKeyId) =>
        new()
        {
            Kind = ProductKind.WindowsAddon,
            Name = "Windows(R), Client-ESU-Year1 add-on for Windows 10",
            Description = "Windows(R) Operating System, VOLUME_MAK channel",
            ApplicationId = ApplicationIds.Windows,
            ActivationId = "f520e45e-7413-4a34-a497-d2765967d094",
            LicenseFamily = "Client-ESU-Year1",
            ChannelRaw = "Volume:MAK",
            FullKey = key,
            ProductKeyId = productKeyId,
            Status = LicenseStatus.Licensed,
            Reason = ReasonOk,
            IsAddon = true,
        };

    /// <summary>The GVLK for an edition; Server GVLKs differ per release, picked from the build.</summary>
    public static string Gvlk(string edition, string osBuild)
    {
        string? release = osBuild switch
        {
            "26100" => "2025",
            "20348" => "2022",
            "17763" => "2019",
            _ => null,
        };
        IEnumerable<KnownKey> candidates = KnownKeys.All.Where(k => k.Kind == KnownKeyKind.Gvlk && k.EditionId == edition);
        if (EditionCatalog.Categorize(edition) == EditionCategory.Server && release is not null)
        {
            candidates = candidates.Where(k => k.Label.Contains(release, StringComparison.Ordinal));
        }

        return candidates.First().Key;
    }

    /// <summary>The generic install key for an edition.</summary>
    public static string GenericKey(string edition) =>
        KnownKeys.All.First(k => k.Kind == KnownKeyKind.GenericInstallKey && k.EditionId == edition).Key;

    private static string DescriptionTag(string channelRaw) => channelRaw switch
    {
        "Retail" => "RETAIL",
        "Volume:GVLK" => "VOLUME_KMSCLIENT",
        "Volume:MAK" => "VOLUME_MAK",
        _ when channelRaw.StartsWith("OEM:", StringComparison.Ordinal) => "OEM_" + channelRaw[4..],
        _ => channelRaw.ToUpperInvariant(),
    };

    private static string WindowsActivationId(string edition, string channelRaw) =>
        channelRaw == "Volume:GVLK" && VolumeActivationIds.TryGetValue(edition, out string? id)
            ? id
            : Seeded.FromName(string.Create(CultureInfo.InvariantCulture, $"Windows|{edition}|{channelRaw}")).ToString();
}
