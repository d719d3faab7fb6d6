using System.Text.Json;

using FleetLicense.Contracts;
using FleetLicense.Domain.Keys;
using FleetLicense.Domain.Licensing;
using FleetLicense.Simulator.Fleet;
using FleetLicense.Simulator.Simulation;

namespace FleetLicense.Simulator.Tests;

public sealed class ReportValidityTests
{
    [Fact]
    public void History_EveryReport_HasTheRequiredFieldsAndConsistentValues()
    {
        TestFleet.Generated demo = TestFleet.Demo;
        foreach ((VirtualMachine machine, List<LicenseReportV1> reports) in demo.Machines())
        {
            Assert.NotEmpty(reports);
            DateTimeOffset previous = DateTimeOffset.MinValue;
            foreach (LicenseReportV1 report in reports)
            {
                Assert.Equal(ContractInfo.CurrentSchemaVersion, report.SchemaVersion);
                Assert.NotEqual(Guid.Empty, report.ReportId);
                Assert.False(string.IsNullOrWhiteSpace(report.AgentVersion));
                Assert.True(report.CollectedAt <= demo.Clock.Now, $"{machine.Hostname}: {report.CollectedAt:o} is after now");
                Assert.True(report.CollectedAt >= demo.Clock.Start);
                Assert.True(report.CollectedAt > previous, $"{machine.Hostname}: reports are not oldest-first");
                previous = report.CollectedAt;

                Assert.Equal(machine.Hostname, report.Machine.Hostname);
                Assert.False(string.IsNullOrWhiteSpace(report.Machine.SmbiosUuid));
                Assert.NotNull(report.Machine.EditionId);
                Assert.NotNull(report.Machine.OsBuild);
                Assert.NotEqual(DirectoryJoinType.Unknown, report.Machine.JoinType);
                if (report.Machine.FirmwareKey is { } firmware)
                {
                    Assert.NotNull(PartialKey.Normalize(firmware.PartialKey));
                    Assert.Matches("^[0-9a-f]{64}$", firmware.Fingerprint!);
                    Assert.Equal(firmware.Edition, EditionCatalog.EditionFromFirmwareKeyDescription(firmware.Description));
                }

                Assert.Single(report.Products, p => p.Kind == ProductKind.Windows);
                foreach (LicensedProductV1 product in report.Products)
                {
                    AssertConsistent(machine, product);
                }
            }
        }
    }

    [Fact]
    public void History_SerializedReports_NeverContainAFullKey()
    {
        TestFleet.Generated demo = TestFleet.Demo;
        HashSet<string> fullKeys = TestFleet.AllFullKeys(demo.Fleet);
        Assert.NotEmpty(fullKeys);
        foreach (LicenseReportV1 report in demo.Reports.SelectMany(r => r))
        {
            string json = JsonSerializer.Serialize(report, FleetLicenseJsonContext.Default.LicenseReportV1);
            Assert.DoesNotMatch(TestFleet.FullKeyPattern(), json);
            Assert.Null(TestFleet.FindFullKey(json, fullKeys));
        }
    }

    [Fact]
    public void History_KmsClients_CountDownAndRenewWithinOneHundredEightyDays()
    {
        TestFleet.Generated demo = TestFleet.Demo;
        int renewals = 0;
        foreach ((VirtualMachine machine, List<LicenseReportV1> reports) in demo.Machines().Where(m => m.Machine.Scenario == Scenario.Healthy))
        {
            long? last = null;
            foreach (LicensedProductV1 windows in reports.Select(r => r.Products.Single(p => p.Kind == ProductKind.Windows)).Where(p => p.Channel == LicenseChannel.KMS))
            {
                Assert.InRange(windows.GraceMinutes!.Value, 259200 - 10080, 259200);
                if (last is { } l && windows.GraceMinutes > l)
                {
                    renewals++;
                    Assert.True(windows.GraceMinutes.Value - l <= 10080);
                }

                last = windows.GraceMinutes;
            }
        }

        Assert.True(renewals > 1000, $"only {renewals} renewals seen");
    }

    private static void AssertConsistent(VirtualMachine machine, LicensedProductV1 product)
    {
        string where = $"{machine.Hostname} {product.Name}";
        Assert.False(string.IsNullOrWhiteSpace(product.Name));
        Assert.NotNull(PartialKey.Normalize(product.PartialKey));
        Assert.Equal(product.PartialKey, PartialKey.Normalize(product.PartialKey));
        Assert.Matches("^[0-9a-f]{64}$", product.KeyFingerprint!);
        Assert.Equal(product.Kind, ProductClassifier.Classify(product.ApplicationId, product.IsAddon, product.Name, product.Description));

        // The channel fields agree with each other, and with the Description's tag.
        ChannelInfo fromRaw = ChannelParser.FromProductKeyChannel(product.ChannelRaw!);
        Assert.Equal(fromRaw.Channel, product.Channel);
        Assert.Equal(fromRaw.Detail, product.ChannelDetail);
        Assert.Equal(product.Channel, ChannelParser.Parse(null, product.Description).Channel);
        Assert.NotEqual(LicenseChannel.Unknown, product.Channel);

        Assert.Equal((int)product.LicenseStatus, product.LicenseStatusCode);
        Assert.Matches("^0x[0-9A-F]{8}$", product.LicenseStatusReason!);
        long grace = product.GraceMinutes!.Value;
        switch (product.LicenseStatus)
        {
            case LicenseStatus.Licensed when product.Channel == LicenseChannel.KMS:
                Assert.True(grace > 0, where);
                Assert.Equal(Licenses.ReasonKmsActivated, product.LicenseStatusReason);
                if (machine.Scenario != Scenario.Kms38)
                {
                    Assert.True(grace <= 259200, where);
                }

                break;
            case LicenseStatus.Licensed:
                Assert.Equal(0, grace);
                break;
            case LicenseStatus.OOBGrace or LicenseStatus.OOTGrace or LicenseStatus.ExtendedGrace:
                Assert.InRange(grace, 1, 30 * 1440);
                break;
            case LicenseStatus.Notification:
                Assert.Equal(0, grace);
                Assert.StartsWith("0xC004F", product.LicenseStatusReason, StringComparison.Ordinal);
                break;
            default:
                Assert.Fail($"{where}: unexpected status {product.LicenseStatus}");
                break;
        }

        if (product.Channel == LicenseChannel.KMS)
        {
            if (product.Kind == ProductKind.Windows)
            {
                Assert.Equal(KnownKeyKind.Gvlk, KnownKeys.FindByPartialKey(product.PartialKey)?.Kind);
            }

            Assert.Equal(10080, product.RenewalIntervalMinutes);
        }

        if (product.Kind == ProductKind.Windows)
        {
            Assert.Equal(machine.EditionId, product.LicenseFamily);
            Assert.Equal(machine.EditionId, EditionCatalog.EditionFromProductName(product.Name));
        }
    }
}
