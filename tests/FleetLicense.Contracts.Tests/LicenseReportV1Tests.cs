using System.Reflection;
using System.Text.Json;

using FleetLicense.Contracts;

namespace FleetLicense.Contracts.Tests;

public class LicenseReportV1Tests
{
    private static LicenseReportV1 Sample() => new()
    {
        ReportId = Guid.Parse("9a7e0c53-8cfd-4d8b-a3f5-3c1f7a0b2d11"),
        CollectedAt = new DateTimeOffset(2025, 6, 11, 8, 0, 0, TimeSpan.Zero),
        AgentVersion = "0.1.0",
        Machine = new MachineFactsV1
        {
            Hostname = "PC-001",
            SmbiosUuid = "4C4C4544-0042-3510-8052-B2C04F4E3332",
            SerialNumber = "5CD1234XYZ",
            Manufacturer = "HP",
            Model = "EliteBook 840",
            ChassisTypes = [10],
            PcSystemType = 2,
            JoinType = DirectoryJoinType.EntraId,
            DomainName = "contoso.onmicrosoft.com",
            OsName = "Microsoft Windows 11 Pro",
            EditionId = "Professional",
            OsBuild = "22631",
            FirmwareKey = new FirmwareKeyV1 { Edition = "Core", Description = "[4.0] Core OEM:DM", PartialKey = "8HVX7", Fingerprint = new string('a', 64) },
        },
        Products =
        [
            new LicensedProductV1
            {
                Name = "Windows(R), Professional edition",
                Description = "Windows(R) Operating System, OEM_DM channel",
                Kind = ProductKind.Windows,
                ApplicationId = "55c92734-d682-4d71-983e-d6ec3f16059f",
                ActivationId = "2de67392-b7a7-462a-b1ca-108dd189f588",
                Channel = LicenseChannel.OEM,
                ChannelDetail = "DM",
                ChannelRaw = "OEM:DM",
                PartialKey = "3V66T",
                LicenseStatusCode = 1,
                LicenseStatus = LicenseStatus.OOBGrace,
                GraceMinutes = 0,
            },
        ],
    };

    [Fact]
    public void Serialize_WhenReport_UsesCamelCaseAndStringEnums()
    {
        string json = JsonSerializer.Serialize(Sample(), FleetLicenseJsonContext.Default.LicenseReportV1);

        Assert.Contains("\"schemaVersion\":1", json, StringComparison.Ordinal);
        Assert.Contains("\"reportId\":\"9a7e0c53-8cfd-4d8b-a3f5-3c1f7a0b2d11\"", json, StringComparison.Ordinal);
        Assert.Contains("\"collectedAt\":\"2025-06-11T08:00:00+00:00\"", json, StringComparison.Ordinal);
        Assert.Contains("\"channel\":\"OEM\"", json, StringComparison.Ordinal);
        Assert.Contains("\"licenseStatus\":\"OOBGrace\"", json, StringComparison.Ordinal);
        Assert.Contains("\"joinType\":\"EntraId\"", json, StringComparison.Ordinal);
        Assert.Contains("\"kind\":\"Windows\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Deserialize_WhenSerialized_RoundTrips()
    {
        LicenseReportV1 report = Sample();

        LicenseReportV1? back = JsonSerializer.Deserialize(JsonSerializer.Serialize(report, FleetLicenseJsonContext.Default.LicenseReportV1), FleetLicenseJsonContext.Default.LicenseReportV1);

        Assert.NotNull(back);
        Assert.Equal(report.ReportId, back.ReportId);
        Assert.Equal(report.Products[0], back.Products[0]);
        Assert.Equal(report.Machine.FirmwareKey, back.Machine.FirmwareKey);
        Assert.Equal([10], back.Machine.ChassisTypes);
    }

    [Theory]
    [InlineData(LicenseStatus.Unlicensed, 0)]
    [InlineData(LicenseStatus.Licensed, 1)]
    [InlineData(LicenseStatus.OOBGrace, 2)]
    [InlineData(LicenseStatus.OOTGrace, 3)]
    [InlineData(LicenseStatus.NonGenuineGrace, 4)]
    [InlineData(LicenseStatus.Notification, 5)]
    [InlineData(LicenseStatus.ExtendedGrace, 6)]
    public void LicenseStatus_WhenCastFromWmiCode_MatchesDocumentedValue(LicenseStatus status, int code)
    {
        Assert.Equal(code, (int)status);
    }

    [Fact]
    public void Contract_WhenInspected_HasNoMemberThatCouldHoldAFullKey()
    {
        Type[] types = [typeof(LicenseReportV1), typeof(MachineFactsV1), typeof(FirmwareKeyV1), typeof(LicensedProductV1)];
        string[] allowedKeyMembers = ["PartialKey", "KeyFingerprint", "Fingerprint", "ProductKeyId", "FirmwareKey"];

        foreach (PropertyInfo property in types.SelectMany(t => t.GetProperties()))
        {
            if (property.Name.Contains("Key", StringComparison.OrdinalIgnoreCase))
            {
                Assert.Contains(property.Name, allowedKeyMembers);
            }
        }
    }

    [Fact]
    public void Deserialize_WhenUnknownEnumText_Fails()
    {
        string json = JsonSerializer.Serialize(Sample(), FleetLicenseJsonContext.Default.LicenseReportV1).Replace("\"OOBGrace\"", "\"Activated\"", StringComparison.Ordinal);

        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize(json, FleetLicenseJsonContext.Default.LicenseReportV1));
    }

    [Fact]
    public void SchemaVersion_WhenNew_IsCurrent()
    {
        Assert.Equal(ContractInfo.CurrentSchemaVersion, Sample().SchemaVersion);
    }
}
