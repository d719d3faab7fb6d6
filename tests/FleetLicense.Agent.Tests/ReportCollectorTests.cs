using FleetLicense.Agent.Collection;
using FleetLicense.Contracts;
using FleetLicense.Domain.Keys;
using FleetLicense.Domain.Parsing;

using static FleetLicense.Agent.Tests.TestSupport;

namespace FleetLicense.Agent.Tests;

public class ReportCollectorTests
{
    private static ReportCollector Collector(string recording)
    {
        (RecordedSource wmi, RecordedSource registry) = Recording(recording);
        return new ReportCollector(wmi, registry, FakeTime());
    }

    [Fact]
    public void Collect_WhenDigitalLicenceRecording_BuildsReportFromEverySource()
    {
        LicenseReportV1 report = Collector(ProRecording).Collect(FakeFleetServer.FingerprintSecret);

        MachineFactsV1 m = report.Machine;
        Assert.Equal("LAPTOP-HOME01", m.Hostname);
        Assert.Equal("4C4C4544-0042-3510-8052-B2C04F4E3332", m.SmbiosUuid);
        Assert.Equal("5CD1234XYZ", m.SerialNumber);
        Assert.Equal("HP", m.Manufacturer);
        Assert.Equal([10], m.ChassisTypes!);
        Assert.Equal(2, m.PcSystemType);
        Assert.Equal("Microsoft Windows 11 Pro", m.OsName);
        Assert.Equal("Professional", m.EditionId);
        Assert.Equal("22631", m.OsBuild);
        Assert.Equal(DirectoryJoinType.EntraId, m.JoinType);
        Assert.Null(m.DomainName);
        Assert.Equal("Core", m.FirmwareKey!.Edition);
        Assert.Equal("8HVX7", m.FirmwareKey.PartialKey);
        Assert.Equal(KeyFingerprint.Compute("YTMG3-N6DKC-DKB77-7M9GH-8HVX7", FakeFleetServer.FingerprintSecret), m.FirmwareKey.Fingerprint);
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 8, 0, 0, TimeSpan.Zero), report.CollectedAt);
        Assert.Equal(7, report.ReportId.Version);
    }

    [Fact]
    public void Collect_WhenRegistryHoldsInstalledKey_FingerprintsTheMatchingWindowsProductOnly()
    {
        LicenseReportV1 report = Collector(ProRecording).Collect(FakeFleetServer.FingerprintSecret);

        // The keyless Core row is skipped; Windows Pro and Office remain.
        Assert.Equal(2, report.Products.Count);
        LicensedProductV1 windows = Assert.Single(report.Products, p => p.Kind == ProductKind.Windows);
        Assert.Equal("3V66T", windows.PartialKey);
        Assert.Equal(KeyFingerprint.Compute("VK7JG-NPHTM-C97JM-9MPGT-3V66T", FakeFleetServer.FingerprintSecret), windows.KeyFingerprint);
        LicensedProductV1 office = Assert.Single(report.Products, p => p.Kind == ProductKind.Office);
        Assert.Null(office.KeyFingerprint);
    }

    [Fact]
    public void Collect_WhenDigitalProductIdEmpty_FingerprintsFromBackupKey()
    {
        LicenseReportV1 report = Collector(EnterpriseRecording).Collect(FakeFleetServer.FingerprintSecret);

        LicensedProductV1 windows = Assert.Single(report.Products, p => p.Kind == ProductKind.Windows);
        Assert.Equal(LicenseChannel.KMS, windows.Channel);
        Assert.Equal(KeyFingerprint.Compute("NPPR9-FWDCX-D2C8J-H872K-2YT43", FakeFleetServer.FingerprintSecret), windows.KeyFingerprint);
        Assert.Equal(DirectoryJoinType.Hybrid, report.Machine.JoinType);
        Assert.Equal("corp.example", report.Machine.DomainName);
        Assert.Null(report.Machine.FirmwareKey);
        Assert.Equal("kms01.corp.example", windows.DiscoveredKmsHost);
    }

    [Fact]
    public void Collect_WhenNoSecret_LeavesFingerprintsOut()
    {
        LicenseReportV1 report = Collector(ProRecording).Collect();

        Assert.All(report.Products, p => Assert.Null(p.KeyFingerprint));
        Assert.Null(report.Machine.FirmwareKey!.Fingerprint);
        Assert.Equal("8HVX7", report.Machine.FirmwareKey.PartialKey);
    }

    [Theory]
    [InlineData(ProRecording)]
    [InlineData(EnterpriseRecording)]
    public void Collect_WhenSourcesHoldFullKeys_ReportCarriesNone(string recording)
    {
        LicenseReportV1 report = Collector(recording).Collect(FakeFleetServer.FingerprintSecret);

        string json = System.Text.Json.JsonSerializer.Serialize(report, FleetLicenseJsonContext.Default.LicenseReportV1);
        Assert.DoesNotMatch(FullKey(), json);
    }

    [Fact]
    public void Read_WhenRecording_KeepsFullKeysInMemoryForShowKeyOnly()
    {
        CollectedMachine machine = Collector(ProRecording).Read();

        Assert.Equal("YTMG3-N6DKC-DKB77-7M9GH-8HVX7", machine.Keys.Firmware);
        Assert.Equal("VK7JG-NPHTM-C97JM-9MPGT-3V66T", machine.Keys.Installed);
        Assert.Equal("DigitalProductId", machine.Keys.InstalledFrom);
        Assert.Equal("VK7JG-NPHTM-C97JM-9MPGT-3V66T", machine.Keys.Backup);
        Assert.DoesNotMatch(FullKey(), machine.Keys.ToString());
    }

    [Fact]
    public void Recording_WhenReadByInspectParser_GivesSameProducts()
    {
        // A recording has the ConvertTo-Json shape, so the dump parser reads it too.
        ParseResult parsed = LicensingDumpParser.Parse(File.ReadAllBytes(Data(ProRecording)));
        LicenseReportV1 report = Collector(ProRecording).Collect();

        Assert.True(parsed.Success, parsed.Error);
        Assert.Equal(report.Products.Select(p => p.PartialKey), parsed.State!.Products.Select(p => p.PartialKey));
        Assert.Equal(report.Machine.EditionId, parsed.State.Machine.EditionId);
    }

    [Theory]
    [InlineData("malformed/truncated.json", "invalid JSON")]
    [InlineData("malformed/empty.txt", "empty")]
    [InlineData("wmi/kolide-505-format-list.txt", "invalid JSON")]
    [InlineData("does-not-exist.json", "cannot read the recording")]
    public void Load_WhenNotARecording_ThrowsNamingTheFile(string file, string reason)
    {
        CollectionException ex = Assert.Throws<CollectionException>(() => RecordedSource.Load(Data(file)));

        Assert.StartsWith(Data(file), ex.Message, StringComparison.Ordinal);
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
        Assert.True(ex.IsInputError);
    }

    [Fact]
    public void Load_WhenDigitalProductIdIsHexOrByteArray_DecodesBoth()
    {
        using var dir = new TempDirectory();
        string hex = File.ReadAllText(Data("digitalproductid/glpi-win8-dpid-generic-pro.hex")).Trim();
        string path = dir.Sub("hex.json");
        File.WriteAllText(path, $$"""{ "Win32_ComputerSystem": { "Name": "PC1", "PCSystemType": 1 }, "Registry": { "CurrentVersion": { "DigitalProductId": "{{hex}}" } } }""");

        MachineKeys keys = new ReportCollector(RecordedSource.Load(path), RecordedSource.Load(path), FakeTime()).Read().Keys;

        Assert.Equal("VK7JG-NPHTM-C97JM-9MPGT-3V66T", keys.Installed);
        Assert.Null(keys.Firmware);
        Assert.Null(keys.Backup);
    }
}
