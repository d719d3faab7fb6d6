namespace FleetLicense.Domain.Rules;

/// <summary>Organisation settings the rules apply.</summary>
public sealed record DetectionPolicy
{
    /// <summary>The default policy: no KMS allowlist, the built-in emulator list, 14 days of grace warning.</summary>
    public static DetectionPolicy Default { get; } = new();

    /// <summary>
    /// The organisation's own KMS hosts: host names, IP addresses, or <c>*.suffix</c> patterns. When empty the
    /// <c>kms-not-allowlisted</c> rule is off, because every host would match.
    /// </summary>
    public IReadOnlyList<string> KmsAllowlist { get; init; } = [];

    /// <summary>Known public KMS emulator hosts; a listed name also matches its subdomains.</summary>
    public IReadOnlyList<string> PublicKmsEmulatorHosts { get; init; } = KnownKmsHosts.PublicEmulators;

    /// <summary>What makes a device a consumer device.</summary>
    public ConsumerDeviceCriteria ConsumerDevice { get; init; } = new();

    /// <summary>Warn when a grace period or KMS activation ends within this many days.</summary>
    public int GraceWarningDays { get; init; } = 14;

    /// <summary>
    /// Whether the organisation bought Extended Security Updates. Null (unknown) turns the
    /// <c>esu-without-entitlement</c> rule off.
    /// </summary>
    public bool? EsuEntitled { get; init; }
}

/// <summary>Criteria for "this is a consumer device".</summary>
public sealed record ConsumerDeviceCriteria
{
    /// <summary>A firmware (OA3) key for a Home edition means the device was sold as a consumer PC.</summary>
    public bool HomeFirmwareKeyMeansConsumer { get; init; } = true;

    /// <summary>A device joined to neither Active Directory nor Entra ID is treated as consumer (when the join state is known).</summary>
    public bool UnjoinedMeansConsumer { get; init; } = true;
}

/// <summary>KMS hosts seen in activator scripts (DOMAIN.md §8).</summary>
public static class KnownKmsHosts
{
    /// <summary>Public KMS emulators and the dynamic-DNS names they use.</summary>
    public static IReadOnlyList<string> PublicEmulators { get; } =
    [
        "kms.msguides.com", "kms7.msguides.com", "kms8.msguides.com", "kms9.msguides.com", "kms.digiboy.ir", "kms.chinancce.com",
        "kms.lotro.cc", "kms.03k.org", "kms-default.cangshui.net", "kms.cangshui.net", "kms.sixyin.com", "kms.moeclub.org",
        "kms.cgtsoft.com", "kms.idina.cn", "kms.moeyuuko.com", "kms.moeyuuko.top", "xincheng213618.cn", "kms.loli.best",
        "kms.loli.beer", "kms.mc06.net", "kms.0t.net.cn", "win.kms.pub", "kms.wxlost.com", "kms.ghxi.com", "kms.library.hk",
        "kms.shuax.com", "kms.cnlic.com", "kms.vudy.net", "k.zpale.com", "kms.ddns.net", "franklv.ddns.net", "zh.us.to",
        "ms8.us.to", "s8.uk.to", "s9.us.to", "xykz.f3322.org", "dimanyakms.sytes.net",
    ];

    /// <summary>
    /// Where MAS parks the KMS name after activating by IP. A private address, so it is flagged only when it is
    /// not on the allowlist.
    /// </summary>
    public const string MasParkingAddress = "10.0.0.10";
}
