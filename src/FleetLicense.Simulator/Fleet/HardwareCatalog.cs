using System.Globalization;

namespace FleetLicense.Simulator.Fleet;

/// <summary>How a maker formats serial numbers.</summary>
internal enum SerialStyle
{
    DellServiceTag,
    Hp,
    Lenovo,
    Surface,
    Hpe,
    VMware,
    HyperV,
    None,
}

/// <summary>
/// A hardware model: what <c>Win32_ComputerSystem</c> and <c>Win32_SystemEnclosure</c> report. <c>OemPreinstalled</c>
/// means it is sold with Windows, so its firmware holds an OA3 key.
/// </summary>
internal sealed record HardwareModel(
    string Manufacturer,
    string Model,
    DeviceKind Kind,
    int[] ChassisTypes,
    int PcSystemType,
    bool OemPreinstalled,
    SerialStyle Serial,
    double Weight);

/// <summary>Manufacturer/model tables per form factor, weighted roughly like a mid-size corporate fleet.</summary>
internal static class HardwareCatalog
{
    // SMBIOS chassis types: 3 desktop, 4 low-profile desktop, 9 laptop, 10 notebook, 1 other (VMs), 23 rack mount, 35 mini PC.
    // PCSystemType: 1 desktop, 2 mobile, 3 workstation, 4 enterprise server.
    public static IReadOnlyList<HardwareModel> Laptops { get; } =
    [
        new("Dell Inc.", "Latitude 5440", DeviceKind.Laptop, [10], 2, true, SerialStyle.DellServiceTag, 3),
        new("Dell Inc.", "Latitude 7440", DeviceKind.Laptop, [10], 2, true, SerialStyle.DellServiceTag, 2),
        new("Dell Inc.", "Latitude 7480", DeviceKind.Laptop, [9], 2, true, SerialStyle.DellServiceTag, 1),
        new("HP", "HP EliteBook 840 G10 Notebook PC", DeviceKind.Laptop, [10], 2, true, SerialStyle.Hp, 3),
        new("HP", "HP EliteBook 850 G8 Notebook PC", DeviceKind.Laptop, [10], 2, true, SerialStyle.Hp, 1),
        new("LENOVO", "ThinkPad T14 Gen 4", DeviceKind.Laptop, [10], 2, true, SerialStyle.Lenovo, 3),
        new("LENOVO", "ThinkPad X1 Carbon Gen 11", DeviceKind.Laptop, [10], 2, true, SerialStyle.Lenovo, 2),
        new("Microsoft Corporation", "Surface Laptop 5", DeviceKind.Laptop, [9], 2, true, SerialStyle.Surface, 1),
        new("Microsoft Corporation", "Surface Pro 9", DeviceKind.Laptop, [9], 2, true, SerialStyle.Surface, 1),
    ];

    public static IReadOnlyList<HardwareModel> Desktops { get; } =
    [
        new("Dell Inc.", "OptiPlex 7010", DeviceKind.Desktop, [3], 1, true, SerialStyle.DellServiceTag, 3),
        new("Dell Inc.", "OptiPlex Micro 7020", DeviceKind.Desktop, [35], 1, true, SerialStyle.DellServiceTag, 1),
        new("Dell Inc.", "Precision 3660 Tower", DeviceKind.Desktop, [3], 3, true, SerialStyle.DellServiceTag, 1),
        new("HP", "HP ProDesk 600 G6 Small Form Factor PC", DeviceKind.Desktop, [4], 1, true, SerialStyle.Hp, 2),
        new("HP", "HP ProDesk 400 G9 Desktop Mini PC", DeviceKind.Desktop, [35], 1, true, SerialStyle.Hp, 1),
        new("LENOVO", "ThinkCentre M70q Gen 4", DeviceKind.Desktop, [35], 1, true, SerialStyle.Lenovo, 2),
    ];

    public static IReadOnlyList<HardwareModel> VirtualDesktops { get; } =
    [
        new("VMware, Inc.", "VMware20,1", DeviceKind.VirtualDesktop, [1], 1, false, SerialStyle.VMware, 3),
        new("Microsoft Corporation", "Virtual Machine", DeviceKind.VirtualDesktop, [3], 1, false, SerialStyle.HyperV, 2),
        new("QEMU", "Standard PC (Q35 + ICH9, 2009)", DeviceKind.VirtualDesktop, [1], 1, false, SerialStyle.None, 1),
    ];

    public static IReadOnlyList<HardwareModel> Servers { get; } =
    [
        new("Dell Inc.", "PowerEdge R650", DeviceKind.Server, [23], 4, false, SerialStyle.DellServiceTag, 1),
        new("HPE", "ProLiant DL380 Gen10", DeviceKind.Server, [23], 4, false, SerialStyle.Hpe, 1),
        new("VMware, Inc.", "VMware20,1", DeviceKind.Server, [1], 1, false, SerialStyle.VMware, 2),
        new("Microsoft Corporation", "Virtual Machine", DeviceKind.Server, [3], 1, false, SerialStyle.HyperV, 2),
    ];

    public static IReadOnlyList<HardwareModel> For(DeviceKind kind) => kind switch
    {
        DeviceKind.Laptop => Laptops,
        DeviceKind.Desktop => Desktops,
        DeviceKind.VirtualDesktop => VirtualDesktops,
        _ => Servers,
    };

    public static HardwareModel Pick(Random random, DeviceKind kind) =>
        Seeded.Pick(random, [.. For(kind).Select(m => (m, m.Weight))]);

    /// <summary>A serial number in the maker's style (never shaped like a product key).</summary>
    public static string? NewSerial(Random random, SerialStyle style) => style switch
    {
        SerialStyle.DellServiceTag => Seeded.Chars(random, 7, "0123456789BCDFGHJKLMNPQRSTVWXYZ"),
        SerialStyle.Hp => "5CG" + Seeded.Digits(random, 4) + Seeded.Chars(random, 3),
        SerialStyle.Lenovo => "PF" + Seeded.Chars(random, 6),
        SerialStyle.Surface => Seeded.Digits(random, 12),
        SerialStyle.Hpe => "CZ" + Seeded.Digits(random, 4) + Seeded.Chars(random, 4),
        SerialStyle.VMware => "VMware-" + string.Join(' ', Enumerable.Range(0, 8).Select(_ => Seeded.Hex(random, 2).ToLowerInvariant()))
            + "-" + string.Join(' ', Enumerable.Range(0, 8).Select(_ => Seeded.Hex(random, 2).ToLowerInvariant())),
        SerialStyle.HyperV => string.Join('-', Enumerable.Range(0, 6).Select(_ => Seeded.Digits(random, 4))) + "-" + Seeded.Digits(random, 2),
        _ => null,
    };

    /// <summary>An SMBIOS UUID; Dell's start with 4C4C4544 ("DELL" in ASCII, byte-swapped).</summary>
    public static string NewSmbiosUuid(Random random, string manufacturer)
    {
        string uuid = Seeded.NextGuid(random).ToString("D", CultureInfo.InvariantCulture).ToUpperInvariant();
        return manufacturer.StartsWith("Dell", StringComparison.Ordinal) ? string.Concat("4C4C4544", uuid.AsSpan(8)) : uuid;
    }
}
