using FleetLicense.Contracts;

namespace FleetLicense.Domain.Parsing;

/// <summary>
/// Collects machine facts from WMI/registry rows that are not licensing rows: Win32_ComputerSystem,
/// Win32_ComputerSystemProduct, Win32_BIOS, Win32_SystemEnclosure, Win32_OperatingSystem and the
/// <c>CurrentVersion</c> registry key. Rows without a class name are recognised by their properties.
/// </summary>
public static class MachineFactsReader
{
    /// <summary>Folds <paramref name="row"/> into <paramref name="facts"/>; earlier values win.</summary>
    public static MachineFactsV1 Apply(MachineFactsV1 facts, PropertyBag row)
    {
        ArgumentNullException.ThrowIfNull(facts);
        ArgumentNullException.ThrowIfNull(row);
        string cls = row.ClassName ?? Guess(row);
        MachineFactsV1 f = facts;
        switch (cls.ToUpperInvariant())
        {
            case "WIN32_COMPUTERSYSTEM":
                f = f with
                {
                    Hostname = f.Hostname ?? row.GetString("DNSHostName") ?? row.GetString("Name"),
                    Manufacturer = f.Manufacturer ?? Clean(row.GetString("Manufacturer")),
                    Model = f.Model ?? Clean(row.GetString("Model")),
                    PcSystemType = f.PcSystemType ?? (int?)row.GetInt64("PCSystemType"),
                };
                if (f.JoinType == DirectoryJoinType.Unknown && row.GetBool("PartOfDomain") is { } joined)
                {
                    f = f with
                    {
                        JoinType = joined ? DirectoryJoinType.Domain : DirectoryJoinType.None,
                        DomainName = f.DomainName ?? (joined ? row.GetString("Domain") : row.GetString("Workgroup") ?? row.GetString("Domain")),
                    };
                }

                break;
            case "WIN32_COMPUTERSYSTEMPRODUCT":
                f = f with
                {
                    SmbiosUuid = f.SmbiosUuid ?? row.GetString("UUID"),
                    SerialNumber = f.SerialNumber ?? Clean(row.GetString("IdentifyingNumber")),
                    Manufacturer = f.Manufacturer ?? Clean(row.GetString("Vendor")),
                    Model = f.Model ?? Clean(row.GetString("Name")),
                };
                break;
            case "WIN32_BIOS":
                f = f with { SerialNumber = f.SerialNumber ?? Clean(row.GetString("SerialNumber")) };
                break;
            case "WIN32_SYSTEMENCLOSURE":
                f = f with { ChassisTypes = f.ChassisTypes ?? row.GetIntList("ChassisTypes") };
                break;
            case "WIN32_OPERATINGSYSTEM":
                f = f with
                {
                    OsName = f.OsName ?? Clean(row.GetString("Caption")),
                    OsBuild = f.OsBuild ?? row.GetString("BuildNumber"),
                    Hostname = f.Hostname ?? row.GetString("CSName"),
                };
                break;
            case "CURRENTVERSION":
                f = f with
                {
                    EditionId = f.EditionId ?? row.GetString("EditionID"),
                    OsBuild = f.OsBuild ?? row.GetString("CurrentBuild") ?? row.GetString("CurrentBuildNumber"),
                    OsName = f.OsName ?? Clean(row.GetString("ProductName")),
                };
                break;
        }

        return f;
    }

    // Text dumps (Format-List, wmic) carry no class name; the property set identifies the class.
    private static string Guess(PropertyBag row)
    {
        if (row.Has("EditionID") || row.Has("CurrentBuild"))
        {
            return "CurrentVersion";
        }

        if (row.Has("PCSystemType") || row.Has("PartOfDomain"))
        {
            return "Win32_ComputerSystem";
        }

        if (row.Has("IdentifyingNumber"))
        {
            return "Win32_ComputerSystemProduct";
        }

        if (row.Has("ChassisTypes"))
        {
            return "Win32_SystemEnclosure";
        }

        if (row.Has("BuildNumber") && row.Has("Caption"))
        {
            return "Win32_OperatingSystem";
        }

        if (row.Has("SMBIOSBIOSVersion") && row.Has("SerialNumber"))
        {
            return "Win32_BIOS";
        }

        return string.Empty;
    }

    private static string? Clean(string? text) => WmiProductRow.Clean(text);
}
