namespace FleetLicense.Contracts;

/// <summary>Identity and hardware/OS facts of one machine. Every member is optional because dumps and older systems omit some.</summary>
public sealed record MachineFactsV1
{
    /// <summary>Computer name (NetBIOS or DNS host name) as Windows reports it.</summary>
    public string? Hostname { get; init; }

    /// <summary>SMBIOS system UUID (<c>Win32_ComputerSystemProduct.UUID</c>), the most stable hardware identity.</summary>
    public string? SmbiosUuid { get; init; }

    /// <summary>Hardware serial number (<c>Win32_BIOS.SerialNumber</c>).</summary>
    public string? SerialNumber { get; init; }

    /// <summary>System manufacturer, e.g. <c>Dell Inc.</c>.</summary>
    public string? Manufacturer { get; init; }

    /// <summary>System model, e.g. <c>Latitude 7480</c>.</summary>
    public string? Model { get; init; }

    /// <summary>SMBIOS chassis types (<c>Win32_SystemEnclosure.ChassisTypes</c>); 9/10/14 are laptops, 3 a desktop.</summary>
    public IReadOnlyList<int>? ChassisTypes { get; init; }

    /// <summary><c>Win32_ComputerSystem.PCSystemType</c>: 1 desktop, 2 mobile, 3 workstation, 4 enterprise server, ...</summary>
    public int? PcSystemType { get; init; }

    /// <summary>How the machine is joined to a directory.</summary>
    public DirectoryJoinType JoinType { get; init; } = DirectoryJoinType.Unknown;

    /// <summary>Active Directory domain or Entra tenant name when joined; the workgroup name otherwise.</summary>
    public string? DomainName { get; init; }

    /// <summary>Operating system name, e.g. <c>Microsoft Windows 11 Pro</c>.</summary>
    public string? OsName { get; init; }

    /// <summary>The registry <c>EditionID</c>, e.g. <c>Professional</c> or <c>Core</c>.</summary>
    public string? EditionId { get; init; }

    /// <summary>OS build number (<c>CurrentBuild</c>), e.g. <c>22631</c>; 22000 and later are Windows 11.</summary>
    public string? OsBuild { get; init; }

    /// <summary>
    /// Machine-wide KMS host (<c>SoftwareLicensingService.KeyManagementServiceMachine</c>, set by <c>slmgr /skms</c>
    /// without an activation id); applies to every product that has no host of its own.
    /// </summary>
    public string? KmsHost { get; init; }

    /// <summary>Port of <see cref="KmsHost"/>; 0 means the default 1688.</summary>
    public int? KmsPort { get; init; }

    /// <summary>The key embedded in firmware (OA3 / MSDM table), when the machine has one.</summary>
    public FirmwareKeyV1? FirmwareKey { get; init; }
}

/// <summary>Directory membership of a machine.</summary>
public enum DirectoryJoinType
{
    /// <summary>The join state was not reported.</summary>
    Unknown = 0,

    /// <summary>Not joined to any directory (workgroup).</summary>
    None,

    /// <summary>Joined to an on-premises Active Directory domain.</summary>
    Domain,

    /// <summary>Joined to Microsoft Entra ID.</summary>
    EntraId,

    /// <summary>Joined to Active Directory and registered with Entra ID (hybrid join).</summary>
    Hybrid,
}

/// <summary>
/// The OEM key stored in firmware (<c>SoftwareLicensingService.OA3xOriginalProductKey</c>), reduced to
/// what is safe to transmit.
/// </summary>
public sealed record FirmwareKeyV1
{
    /// <summary>
    /// Edition the firmware key is for, parsed from <c>OA3xOriginalProductKeyDescription</c>
    /// (e.g. <c>Core</c> from <c>[4.0] Core OEM:DM</c>).
    /// </summary>
    public string? Edition { get; init; }

    /// <summary>The raw <c>OA3xOriginalProductKeyDescription</c> text.</summary>
    public string? Description { get; init; }

    /// <summary>The last five characters of the firmware key.</summary>
    public string? PartialKey { get; init; }

    /// <summary>Keyed fingerprint of the firmware key (HMAC-SHA256 with the organisation secret), lowercase hex.</summary>
    public string? Fingerprint { get; init; }
}
