using System.Management;
using System.Runtime.Versioning;

using Microsoft.Win32;

namespace FleetLicense.Agent.Collection;

/// <summary>
/// Live WMI (<c>root\cimv2</c>). Deliberately thin: it copies property names and values and nothing else, so the
/// recorded fixtures (same shape) exercise every line of interpretation on Linux.
/// </summary>
[SupportedOSPlatform("windows")]
internal sealed class WmiLicensingSource : ILicensingSource
{
    public IReadOnlyList<IReadOnlyDictionary<string, object?>> Query(string className)
    {
        if (!WmiClasses.All.Contains(className, StringComparer.Ordinal))
        {
            throw new ArgumentException($"Not a class the agent reads: {className}", nameof(className));
        }

        string wql = className == WmiClasses.SoftwareLicensingProduct
            ? $"SELECT * FROM {className} WHERE PartialProductKey IS NOT NULL"
            : $"SELECT * FROM {className}";
        try
        {
            using var searcher = new ManagementObjectSearcher(@"root\cimv2", wql);
            using ManagementObjectCollection results = searcher.Get();
            var rows = new List<IReadOnlyDictionary<string, object?>>();
            foreach (ManagementBaseObject row in results)
            {
                using (row)
                {
                    var values = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
                    foreach (PropertyData property in row.Properties)
                    {
                        values[property.Name] = property.Value;
                    }

                    rows.Add(values);
                }
            }

            return rows;
        }
        catch (Exception ex) when (ex is ManagementException or UnauthorizedAccessException or System.Runtime.InteropServices.COMException)
        {
            throw new CollectionException($"WMI query '{wql}' failed: {ex.Message.ReplaceLineEndings(" ").Trim()}", ex);
        }
    }
}

/// <summary>Live registry, always the 64-bit view (a 32-bit process would otherwise see the WOW64 copy).</summary>
[SupportedOSPlatform("windows")]
internal sealed class WindowsRegistrySource : IRegistrySource
{
    private const string CurrentVersionPath = @"SOFTWARE\Microsoft\Windows NT\CurrentVersion";
    private const string ProtectionPlatformPath = CurrentVersionPath + @"\SoftwareProtectionPlatform";
    private const string JoinInfoPath = @"SYSTEM\CurrentControlSet\Control\CloudDomainJoin\JoinInfo";

    private static readonly string[] CurrentVersionValues =
    [
        "EditionID", "ProductName", "CurrentBuild", "CurrentBuildNumber", "UBR", "DisplayVersion", "ProductId", "InstallationType",
        "DigitalProductId", "DigitalProductId4",
    ];

    public RegistrySnapshot Read()
    {
        try
        {
            using RegistryKey hklm = RegistryKey.OpenBaseKey(RegistryHive.LocalMachine, RegistryView.Registry64);
            var currentVersion = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
            using (RegistryKey? key = hklm.OpenSubKey(CurrentVersionPath))
            {
                foreach (string name in CurrentVersionValues)
                {
                    if (key?.GetValue(name) is { } value)
                    {
                        currentVersion[name] = value;
                    }
                }
            }

            string? backup;
            using (RegistryKey? key = hklm.OpenSubKey(ProtectionPlatformPath))
            {
                backup = key?.GetValue("BackupProductKeyDefault") as string;
            }

            bool entra;
            using (RegistryKey? key = hklm.OpenSubKey(JoinInfoPath))
            {
                entra = key is not null && key.SubKeyCount > 0;
            }

            return new RegistrySnapshot { CurrentVersion = currentVersion, BackupProductKeyDefault = backup, EntraJoined = entra };
        }
        catch (Exception ex) when (ex is System.Security.SecurityException or UnauthorizedAccessException or IOException)
        {
            throw new CollectionException($"reading the registry failed: {ex.Message.ReplaceLineEndings(" ").Trim()} (run as administrator or as the service)", ex);
        }
    }
}

/// <summary>Chooses the sources: a recording when given, live Windows otherwise.</summary>
internal static class Sources
{
    public static (ILicensingSource Wmi, IRegistrySource Registry) Open(string? recording)
    {
        if (recording is not null)
        {
            RecordedSource recorded = RecordedSource.Load(recording);
            return (recorded, recorded);
        }

        if (OperatingSystem.IsWindows())
        {
            return (new WmiLicensingSource(), new WindowsRegistrySource());
        }

        throw new PlatformNotSupportedException("reading this machine's licensing needs Windows (WMI and registry); pass --from-recording FILE to use a recorded dump");
    }
}
