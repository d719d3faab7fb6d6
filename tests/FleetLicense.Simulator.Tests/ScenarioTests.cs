using FleetLicense.Contracts;
using FleetLicense.Domain;
using FleetLicense.Domain.Rules;
using FleetLicense.Simulator.Fleet;

namespace FleetLicense.Simulator.Tests;

/// <summary>Each scenario shows what it is meant to show, judged by the server's own rule engine.</summary>
public sealed class ScenarioTests
{
    private static readonly DetectionPolicy Policy = DetectionPolicy.Default with
    {
        KmsAllowlist = [Licenses.CorporateKms1, Licenses.CorporateKms2, Licenses.CorporateKms1Ip, Licenses.CorporateKms2Ip],
    };

    [Theory]
    [InlineData(nameof(Scenario.GvlkOnHome), RuleIds.VolumeKeyOnConsumerEdition)]
    [InlineData(nameof(Scenario.PublicKmsEmulator), RuleIds.KmsPublicEmulator)]
    [InlineData(nameof(Scenario.Kms38), RuleIds.Kms38Activation)]
    [InlineData(nameof(Scenario.NotificationMode), RuleIds.NotActivated)]
    [InlineData(nameof(Scenario.GraceRunningOut), RuleIds.GraceEnding)]
    public void LatestReport_OfAProblemMachine_TriggersItsRule(string scenarioName, string rule)
    {
        Scenario scenario = Enum.Parse<Scenario>(scenarioName);
        var machines = TestFleet.Demo.Machines().Where(m => m.Machine.Scenario == scenario).ToList();
        Assert.NotEmpty(machines);
        foreach ((VirtualMachine machine, List<LicenseReportV1> reports) in machines)
        {
            IReadOnlyList<Finding> findings = RuleEngine.Evaluate(MachineLicensingState.FromReport(reports[^1]), Policy);
            Assert.True(findings.Any(f => f.Rule == rule), $"{machine.Hostname}: {string.Join(", ", findings.Select(f => f.Rule))}");
        }
    }

    [Fact]
    public void LatestReport_OfAKms38Machine_UsesLoopbackOrNoHostAndRunsTo2038()
    {
        foreach ((VirtualMachine _, List<LicenseReportV1> reports) in TestFleet.Demo.Machines().Where(m => m.Machine.Scenario == Scenario.Kms38))
        {
            LicensedProductV1 windows = reports[^1].Products.Single(p => p.Kind == ProductKind.Windows);
            Assert.Equal("Volume:GVLK", windows.ChannelRaw);
            Assert.True(windows.GraceMinutes > 6_000_000);
            Assert.True(windows.KmsHost is null or Licenses.Kms38Loopback);
        }
    }

    [Fact]
    public void EveryReport_OfAHealthyMachine_HasNoWarningOrCritical()
    {
        Scenario[] healthy = [Scenario.Healthy, Scenario.Silent, Scenario.KeyChange, Scenario.KmsHostMove];
        foreach ((VirtualMachine machine, List<LicenseReportV1> reports) in TestFleet.Demo.Machines().Where(m => healthy.Contains(m.Machine.Scenario)))
        {
            foreach (LicenseReportV1 report in reports)
            {
                IReadOnlyList<Finding> findings = RuleEngine.Evaluate(MachineLicensingState.FromReport(report), Policy);
                Assert.True(findings.All(f => f.Severity == FindingSeverity.Info), $"{machine.Hostname} ({machine.Scenario}): {string.Join(", ", findings.Where(f => f.Severity > FindingSeverity.Info).Select(f => f.Rule))}");
            }
        }
    }

    [Fact]
    public void History_OfEventMachines_ShowsTheChange()
    {
        foreach ((VirtualMachine machine, List<LicenseReportV1> reports) in TestFleet.Demo.Machines())
        {
            LicensedProductV1 first = reports[0].Products.Single(p => p.Kind == ProductKind.Windows);
            LicensedProductV1 last = reports[^1].Products.Single(p => p.Kind == ProductKind.Windows);
            switch (machine.Scenario)
            {
                case Scenario.Activation:
                    Assert.Equal(LicenseStatus.OOBGrace, first.LicenseStatus);
                    Assert.Equal(LicenseStatus.Licensed, last.LicenseStatus);
                    Assert.True(reports[0].CollectedAt > TestFleet.Demo.Clock.Start.AddDays(5), "a new machine appears during the window");
                    break;
                case Scenario.KeyChange:
                    Assert.Equal(LicenseChannel.MAK, first.Channel);
                    Assert.Equal(LicenseChannel.KMS, last.Channel);
                    Assert.NotEqual(first.PartialKey, last.PartialKey);
                    Assert.NotEqual(first.KeyFingerprint, last.KeyFingerprint);
                    break;
                case Scenario.KmsHostMove:
                    Assert.Equal(Licenses.CorporateKms1, first.DiscoveredKmsHost);
                    Assert.Equal(Licenses.CorporateKms2, last.DiscoveredKmsHost);
                    break;
                case Scenario.Silent:
                    Assert.True(reports[^1].CollectedAt < TestFleet.Demo.Clock.Now.AddDays(-7), $"{machine.Hostname} reported recently");
                    break;
                case Scenario.GraceRunningOut:
                    Assert.Contains(last.LicenseStatus, (LicenseStatus[])[LicenseStatus.OOBGrace, LicenseStatus.OOTGrace, LicenseStatus.ExtendedGrace]);
                    Assert.InRange(last.GraceMinutes!.Value, 1, 14 * 1440);
                    break;
                case Scenario.Healthy:
                    Assert.True(reports[^1].CollectedAt > TestFleet.Demo.Clock.Now.AddDays(-3.1), $"{machine.Hostname} is silent");
                    break;
            }
        }
    }

    [Fact]
    public void History_OfActivatorMachines_OftenStartsUnactivated()
    {
        int changed = TestFleet.Demo.Machines()
            .Where(m => m.Machine.Scenario is Scenario.PublicKmsEmulator or Scenario.Kms38 or Scenario.GvlkOnHome)
            .Count(m => m.Reports[0].Products.Single(p => p.Kind == ProductKind.Windows).KeyFingerprint
                != m.Reports[^1].Products.Single(p => p.Kind == ProductKind.Windows).KeyFingerprint);

        Assert.True(changed > 50, $"only {changed} activator machines change during the window");
    }
}
