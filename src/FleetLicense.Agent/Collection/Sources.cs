namespace FleetLicense.Agent.Collection;

/// <summary>The WMI classes (namespace <c>root\cimv2</c>) the agent reads, in the order it reads them.</summary>
internal static class WmiClasses
{
    public const string SoftwareLicensingProduct = "SoftwareLicensingProduct";
    public const string SoftwareLicensingService = "SoftwareLicensingService";
    public const string ComputerSystem = "Win32_ComputerSystem";
    public const string ComputerSystemProduct = "Win32_ComputerSystemProduct";
    public const string Bios = "Win32_BIOS";
    public const string SystemEnclosure = "Win32_SystemEnclosure";
    public const string OperatingSystem = "Win32_OperatingSystem";

    /// <summary>Every class, machine facts first so that their values win over the registry's.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        ComputerSystem, ComputerSystemProduct, Bios, SystemEnclosure, OperatingSystem, SoftwareLicensingService, SoftwareLicensingProduct,
    ];
}

/// <summary>
/// Raw WMI rows, exactly as Windows returns them (property name to value). The Windows implementation is a
/// thin wrapper over <c>System.Management</c>; <see cref="RecordedSource"/> replays a recorded dump of the same shape.
/// </summary>
internal interface ILicensingSource
{
    /// <summary>
    /// The rows of one class from <see cref="WmiClasses"/>. For <c>SoftwareLicensingProduct</c> only rows with a
    /// product key (<c>PartialProductKey IS NOT NULL</c>).
    /// </summary>
    IReadOnlyList<IReadOnlyDictionary<string, object?>> Query(string className);
}

/// <summary>Registry values the agent reads. Full keys in here live only in memory.</summary>
internal interface IRegistrySource
{
    RegistrySnapshot Read();
}

/// <summary>What the registry says about Windows and its product keys.</summary>
internal sealed record RegistrySnapshot
{
    /// <summary>
    /// <c>HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion</c>: <c>EditionID</c>, <c>ProductName</c>,
    /// <c>CurrentBuild</c>, <c>UBR</c>, <c>DisplayVersion</c>, and <c>DigitalProductId</c>/<c>DigitalProductId4</c> as bytes.
    /// </summary>
    public IReadOnlyDictionary<string, object?> CurrentVersion { get; init; } = new Dictionary<string, object?>();

    /// <summary><c>...\CurrentVersion\SoftwareProtectionPlatform\BackupProductKeyDefault</c>: the installed key in plain text.</summary>
    public string? BackupProductKeyDefault { get; init; }

    /// <summary>
    /// True when <c>HKLM\SYSTEM\CurrentControlSet\Control\CloudDomainJoin\JoinInfo</c> has an entry (the device is
    /// joined to Microsoft Entra ID); null when unknown.
    /// </summary>
    public bool? EntraJoined { get; init; }

    public byte[]? DigitalProductId => CurrentVersion.TryGetValue("DigitalProductId", out object? v) ? v as byte[] : null;

    public byte[]? DigitalProductId4 => CurrentVersion.TryGetValue("DigitalProductId4", out object? v) ? v as byte[] : null;
}

/// <summary>Raised when the machine's licensing data cannot be read; the message is one sentence for the user.</summary>
internal sealed class CollectionException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>True when the user's input (a recording) is at fault rather than this machine.</summary>
    public bool IsInputError { get; init; }
}
