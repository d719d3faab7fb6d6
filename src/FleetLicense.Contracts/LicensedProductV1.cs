namespace FleetLicense.Contracts;

/// <summary>
/// One licensed product: a <c>SoftwareLicensingProduct</c> row that has a product key installed,
/// normalised. Members Windows may not report are nullable.
/// </summary>
public sealed record LicensedProductV1
{
    /// <summary>Product name, e.g. <c>Windows(R), Professional edition</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Product description, e.g. <c>Windows(R) Operating System, OEM_DM channel</c>.</summary>
    public string? Description { get; init; }

    /// <summary>What kind of product this row is (Windows base licence, Windows add-on, Office, other).</summary>
    public ProductKind Kind { get; init; } = ProductKind.Other;

    /// <summary><c>ApplicationID</c>: <c>55c92734-d682-4d71-983e-d6ec3f16059f</c> is Windows, <c>0ff1ce15-…</c> Office.</summary>
    public string? ApplicationId { get; init; }

    /// <summary><c>ID</c>: the activation (SKU) id of the licence.</summary>
    public string? ActivationId { get; init; }

    /// <summary><c>LicenseFamily</c>: for Windows the edition, e.g. <c>Professional</c>.</summary>
    public string? LicenseFamily { get; init; }

    /// <summary>True for add-on licences such as Extended Security Updates (<c>LicenseIsAddon</c>).</summary>
    public bool IsAddon { get; init; }

    /// <summary>Normalised licensing channel.</summary>
    public LicenseChannel Channel { get; init; } = LicenseChannel.Unknown;

    /// <summary>Detail of the channel: the OEM kind (<c>DM</c>, <c>NONSLP</c>, <c>COA</c>, <c>SLP</c>), <c>GVLK</c>, <c>TB:Eval</c>, …</summary>
    public string? ChannelDetail { get; init; }

    /// <summary>The channel exactly as Windows reported it (<c>ProductKeyChannel</c>, or the Description's channel tag).</summary>
    public string? ChannelRaw { get; init; }

    /// <summary>The last five characters of the installed product key (all WMI itself exposes).</summary>
    public string? PartialKey { get; init; }

    /// <summary>
    /// Keyed fingerprint of the full key (HMAC-SHA256 with the organisation secret, lowercase hex), present only
    /// when the agent could read the full key; equal fingerprints on two machines mean the same key.
    /// </summary>
    public string? KeyFingerprint { get; init; }

    /// <summary><c>ProductKeyID</c>: the extended product id (PID) of the installed key; not a secret.</summary>
    public string? ProductKeyId { get; init; }

    /// <summary>Raw <c>LicenseStatus</c> code, 0 to 6 (or another value if Windows reports one).</summary>
    public int LicenseStatusCode { get; init; }

    /// <summary>Name of <see cref="LicenseStatusCode"/>; only <see cref="LicenseStatus.Licensed"/> means activated.</summary>
    public LicenseStatus LicenseStatus { get; init; } = LicenseStatus.Unknown;

    /// <summary><c>LicenseStatusReason</c> HRESULT as hex, e.g. <c>0xC004F014</c>.</summary>
    public string? LicenseStatusReason { get; init; }

    /// <summary>
    /// <c>GracePeriodRemaining</c> in minutes: time left in a grace period, or until a volume activation expires.
    /// 0 on a permanently licensed product.
    /// </summary>
    public long? GraceMinutes { get; init; }

    /// <summary>End of an evaluation licence, in UTC; null when the licence has none.</summary>
    public DateTimeOffset? EvaluationEndDate { get; init; }

    /// <summary>KMS host configured for this product (<c>KeyManagementServiceMachine</c>, set by <c>slmgr /skms</c>).</summary>
    public string? KmsHost { get; init; }

    /// <summary>Port of <see cref="KmsHost"/>; Windows reports 0 for the default 1688.</summary>
    public int? KmsPort { get; init; }

    /// <summary>KMS host found through DNS or last used (<c>DiscoveredKeyManagementServiceMachineName</c>).</summary>
    public string? DiscoveredKmsHost { get; init; }

    /// <summary>Port of <see cref="DiscoveredKmsHost"/>.</summary>
    public int? DiscoveredKmsPort { get; init; }

    /// <summary>IP address of the KMS host last used (<c>DiscoveredKeyManagementServiceMachineIpAddress</c>).</summary>
    public string? DiscoveredKmsIpAddress { get; init; }

    /// <summary><c>VLActivationInterval</c>: minutes between KMS activation attempts (default 120).</summary>
    public long? ActivationIntervalMinutes { get; init; }

    /// <summary><c>VLRenewalInterval</c>: minutes between KMS renewals (default 10080).</summary>
    public long? RenewalIntervalMinutes { get; init; }

    /// <summary><c>RemainingAppReArmCount</c>; null when not applicable.</summary>
    public long? RemainingAppRearmCount { get; init; }

    /// <summary><c>RemainingSkuReArmCount</c>; null when not applicable.</summary>
    public long? RemainingSkuRearmCount { get; init; }

    /// <summary><c>IsKeyManagementServiceMachine</c>: true when this machine is itself a KMS host for the product.</summary>
    public bool? IsKmsHost { get; init; }

    /// <summary><c>KeyManagementServiceCurrentCount</c> on a KMS host; null on clients (which report 4294967295).</summary>
    public long? KmsCurrentCount { get; init; }
}

/// <summary>What a licensed product row is.</summary>
public enum ProductKind
{
    /// <summary>Neither Windows nor Office.</summary>
    Other = 0,

    /// <summary>The Windows base licence (Windows application id, not an add-on); the machine's Windows status comes only from this.</summary>
    Windows,

    /// <summary>A Windows add-on licence such as Extended Security Updates.</summary>
    WindowsAddon,

    /// <summary>An Office licence (Office 2010 or 2013 and later).</summary>
    Office,
}

/// <summary>Normalised licensing channel of a product key.</summary>
public enum LicenseChannel
{
    /// <summary>The channel is missing or not one Windows documents.</summary>
    Unknown = 0,

    /// <summary>A bought key, a digital licence, or a generic install key.</summary>
    Retail,

    /// <summary>A key from the PC maker (detail: DM, NONSLP, COA, SLP).</summary>
    OEM,

    /// <summary>Multiple Activation Key (volume licensing).</summary>
    MAK,

    /// <summary>KMS client with a generic volume licence key (GVLK).</summary>
    KMS,

    /// <summary>A KMS host key; it belongs only on the organisation's KMS servers.</summary>
    CSVLK,

    /// <summary>A time-limited evaluation or trial licence.</summary>
    Evaluation,
}

/// <summary>The <c>LicenseStatus</c> values of <c>SoftwareLicensingProduct</c>. Only <see cref="Licensed"/> is activated.</summary>
public enum LicenseStatus
{
    /// <summary>Windows reported a value outside 0–6, or none.</summary>
    Unknown = -1,

    /// <summary>0: not activated and out of grace.</summary>
    Unlicensed = 0,

    /// <summary>1: activated.</summary>
    Licensed = 1,

    /// <summary>2: initial (out-of-box) grace period; not yet activated.</summary>
    OOBGrace = 2,

    /// <summary>3: additional grace period: hardware changed beyond tolerance, or the KMS activation expired.</summary>
    OOTGrace = 3,

    /// <summary>4: non-genuine grace period.</summary>
    NonGenuineGrace = 4,

    /// <summary>5: notification mode: not activated, Windows nags the user.</summary>
    Notification = 5,

    /// <summary>6: extended grace period.</summary>
    ExtendedGrace = 6,
}
