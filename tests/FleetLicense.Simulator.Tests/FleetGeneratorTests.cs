using System.Text.Json;

using FleetLicense.Contracts;
using FleetLicense.Domain.Licensing;
using FleetLicense.Simulator.Fleet;
using FleetLicense.Simulator.Simulation;

namespace FleetLicense.Simulator.Tests;

public sealed class FleetGeneratorTests
{
    [Fact]
    public void Generate_WhenSameSeed_GivesIdenticalFleetAndReportStreams()
    {
        string first = Serialize(TestFleet.Generate(7, 300, 30));
        string second = Serialize(TestFleet.Generate(7, 300, 30));

        Assert.Equal(first, second);
    }

    [Fact]
    public void Generate_WhenDifferentSeed_GivesDifferentFleet()
    {
        TestFleet.Generated a = TestFleet.Generate(7, 300, 30);
        TestFleet.Generated b = TestFleet.Generate(8, 300, 30);

        Assert.NotEqual(Serialize(a), Serialize(b));
        Assert.Empty(a.Fleet.Machines.Select(m => m.SmbiosUuid).Intersect(b.Fleet.Machines.Select(m => m.SmbiosUuid)));
        Assert.Empty(a.Reports.SelectMany(r => r).Select(r => r.ReportId).Intersect(b.Reports.SelectMany(r => r).Select(r => r.ReportId)));
    }

    [Fact]
    public void Generate_WhenLaterOnTheSameDay_KeepsEveryEarlierReportAndItsId()
    {
        FleetModel fleet = new FleetGenerator(42, 200).Generate();
        var factory = new ReportFactory(TestFleet.FingerprintSecret);
        DateTime midnight = TestFleet.Now.UtcDateTime.Date;
        var morning = new SimulationClock(new DateTimeOffset(midnight.AddHours(9), TimeSpan.Zero), 90);
        var evening = new SimulationClock(new DateTimeOffset(midnight.AddHours(21), TimeSpan.Zero), 90);

        foreach (VirtualMachine machine in fleet.Machines.Where(m => m.Scenario != Scenario.GraceRunningOut))
        {
            List<TimelineEntry> early = [.. MachineTimeline.Build(machine, morning).Entries];
            List<TimelineEntry> late = [.. MachineTimeline.Build(machine, evening).Entries];
            Assert.True(late.Count >= early.Count);
            Assert.Equal(early.Select(e => (e.ReportId, e.CollectedAt)), late.Take(early.Count).Select(e => (e.ReportId, e.CollectedAt)));
        }
    }

    [Fact]
    public void Generate_With2000Machines_GivesEachScenarioAFewPercent()
    {
        FleetModel fleet = TestFleet.Demo.Fleet;
        int n = fleet.Machines.Count;

        Assert.Equal(Scenarios.SharedRetailKeyGroupSize, fleet.CountOf(Scenario.SharedRetailKey));
        foreach ((Scenario scenario, double rate) in Scenarios.Rates)
        {
            double share = (double)fleet.CountOf(scenario) / n;
            Assert.InRange(share, 0.01, 0.06);
            Assert.InRange(share, rate * 0.9, rate * 1.1);
        }

        double problems = fleet.Machines.Count(m => m.Scenario is Scenario.GvlkOnHome or Scenario.PublicKmsEmulator or Scenario.Kms38
            or Scenario.SharedRetailKey or Scenario.NotificationMode or Scenario.GraceRunningOut or Scenario.Silent) / (double)n;
        Assert.InRange(problems, 0.10, 0.20);
        Assert.InRange(fleet.CountOf(Scenario.Healthy) / (double)n, 0.70, 0.85);
    }

    [Fact]
    public void Generate_With2000Machines_SharesOneRetailKeyOnExactlyTwentyMachines()
    {
        var windowsByMachine = TestFleet.Demo.Machines()
            .Select(m => (m.Machine, Windows: m.Reports[^1].Products.Single(p => p.Kind == ProductKind.Windows)))
            .ToList();

        var group = windowsByMachine.Where(m => m.Machine.Scenario == Scenario.SharedRetailKey).ToList();
        Assert.Equal(20, group.Count);
        string fingerprint = Assert.Single(group.Select(g => g.Windows.KeyFingerprint).Distinct())!;
        Assert.All(group, g => Assert.Equal(LicenseChannel.Retail, g.Windows.Channel));

        // Nobody else has that key, and no other retail key is on more than one machine.
        Assert.Equal(20, windowsByMachine.Count(m => m.Windows.KeyFingerprint == fingerprint));
        var otherRetail = windowsByMachine
            .Where(m => m.Machine.Scenario != Scenario.SharedRetailKey && m.Windows.Channel == LicenseChannel.Retail
                && Domain.Keys.KnownKeys.FindByPartialKey(m.Windows.PartialKey) is null)
            .GroupBy(m => m.Windows.KeyFingerprint);
        Assert.All(otherRetail, g => Assert.Single(g));
    }

    [Fact]
    public void Generate_With2000Machines_KeepsEveryMakUnderTheServersDefaultLimit()
    {
        var makUse = TestFleet.Demo.Reports
            .SelectMany(r => r[^1].Products.Select(p => (Machine: r[^1].Machine.Hostname, Product: p)))
            .Where(x => x.Product.Channel == LicenseChannel.MAK)
            .GroupBy(x => x.Product.KeyFingerprint)
            .Select(g => g.Select(x => x.Machine).Distinct().Count())
            .ToList();

        Assert.True(makUse.Count >= 7, "several MAKs (Windows editions and ESU)");
        Assert.All(makUse, machines => Assert.InRange(machines, 1, 100));
    }

    [Fact]
    public void Generate_With2000Machines_HasARealisticMix()
    {
        IReadOnlyList<VirtualMachine> machines = TestFleet.Demo.Fleet.Machines;
        double Share(Func<VirtualMachine, bool> predicate) => machines.Count(predicate) / (double)machines.Count;

        Assert.InRange(Share(m => m.EditionId is "Professional" or "Enterprise"), 0.70, 0.92);
        Assert.InRange(Share(m => m.EditionId.StartsWith("Core", StringComparison.Ordinal)), 0.03, 0.15);
        Assert.InRange(Share(m => m.Kind == DeviceKind.Server), 0.03, 0.12);
        Assert.InRange(Share(m => m.Kind == DeviceKind.VirtualDesktop), 0.05, 0.2);
        Assert.InRange(Share(m => m.Kind == DeviceKind.Laptop), 0.4, 0.65);
        Assert.InRange(Share(m => m.JoinType is DirectoryJoinType.Domain or DirectoryJoinType.Hybrid or DirectoryJoinType.EntraId), 0.75, 0.95);
        Assert.Equal(["17763", "19045", "20348", "22631", "26100"], machines.Select(m => m.OsBuild).Distinct().Order(StringComparer.Ordinal));
        foreach (string maker in (string[])["Dell Inc.", "HP", "LENOVO", "Microsoft Corporation", "VMware, Inc.", "QEMU"])
        {
            Assert.Contains(machines, m => m.Manufacturer == maker);
        }

        VirtualMachine[] clients = [.. machines.Where(m => m.Kind != DeviceKind.Server)];
        Assert.InRange(clients.Count(m => m.Before.Office is not null) / (double)clients.Length, 0.45, 0.70);
        Assert.Contains(machines, m => m.Before.Esu is not null && m.OsBuild == "19045");
        Assert.DoesNotContain(machines, m => m.Before.Esu is not null && m.OsBuild != "19045");

        // Form factors match their chassis: laptops are mobile, servers rack or virtual.
        Assert.All(machines.Where(m => m.Kind == DeviceKind.Laptop), m => Assert.Equal(2, m.PcSystemType));
        Assert.All(machines.Where(m => m.Kind == DeviceKind.Laptop), m => Assert.True(m.ChassisTypes[0] is 9 or 10));
        Assert.All(machines.Where(m => m.Kind == DeviceKind.Server), m => Assert.StartsWith("SRV-", m.Hostname, StringComparison.Ordinal));
        Assert.All(machines.Where(m => m.Kind == DeviceKind.Laptop), m => Assert.StartsWith("LAPTOP-", m.Hostname, StringComparison.Ordinal));
        Assert.All(machines.Where(m => m.EditionId.StartsWith("Core", StringComparison.Ordinal)), m => Assert.Equal(DirectoryJoinType.None, m.JoinType));
        Assert.All(machines.Where(m => m.FirmwareKey is not null), m => Assert.True(m.Kind is DeviceKind.Laptop or DeviceKind.Desktop));
    }

    [Fact]
    public void Generate_With2000Machines_GivesUniqueIdentitiesAndReportIds()
    {
        TestFleet.Generated demo = TestFleet.Demo;

        Assert.Equal(2000, demo.Fleet.Machines.Select(m => m.Hostname).Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.Equal(2000, demo.Fleet.Machines.Select(m => m.SmbiosUuid).Distinct().Count());
        int reports = demo.Reports.Sum(r => r.Count);
        Assert.Equal(reports, demo.Reports.SelectMany(r => r).Select(r => r.ReportId).Distinct().Count());

        // Modest history: one report every 1-3 days plus change points.
        double perMachine = reports / 2000.0;
        Assert.InRange(perMachine, 40, 60);
    }

    private static string Serialize(TestFleet.Generated generated)
    {
        var text = new System.Text.StringBuilder();
        foreach ((VirtualMachine machine, List<LicenseReportV1> reports) in generated.Machines())
        {
            text.AppendLine(machine.Scenario.ToString());
            foreach (LicenseReportV1 report in reports)
            {
                text.AppendLine(JsonSerializer.Serialize(report, FleetLicenseJsonContext.Default.LicenseReportV1));
            }
        }

        return text.ToString();
    }
}
