using System.Text.RegularExpressions;

using FleetLicense.Contracts;
using FleetLicense.Simulator.Fleet;
using FleetLicense.Simulator.Simulation;

namespace FleetLicense.Simulator.Tests;

/// <summary>Fixed inputs shared by the generation tests, and a cache of the 2,000-machine fleet they inspect.</summary>
internal static partial class TestFleet
{
    public static readonly DateTimeOffset Now = new(2026, 3, 14, 15, 26, 53, TimeSpan.Zero);

    public static readonly byte[] FingerprintSecret = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];

    private static readonly Lazy<Generated> Large = new(() => Generate(42, 2000, 90));

    /// <summary>The demo-sized fleet: seed 42, 2,000 machines, 90 days, with every report built.</summary>
    public static Generated Demo => Large.Value;

    public static Generated Generate(int seed, int machines, int days)
    {
        FleetModel fleet = new FleetGenerator(seed, machines).Generate();
        var clock = new SimulationClock(Now, days);
        var factory = new ReportFactory(FingerprintSecret);
        MachineTimeline[] timelines = [.. fleet.Machines.Select(m => MachineTimeline.Build(m, clock))];
        List<LicenseReportV1>[] reports = [.. timelines.Select(factory.History)];
        return new Generated(fleet, clock, timelines, reports);
    }

    /// <summary>The full-key shape the brief asks every request body to be scanned for.</summary>
    [GeneratedRegex("[BCDFGHJKMNPQRTVWXY2346789]{5}(-[BCDFGHJKMNPQRTVWXY2346789]{5}){4}", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    public static partial Regex FullKeyPattern();

    /// <summary>Every full key the fleet holds in memory (installed, firmware, organisation keys), as 25 upper-case characters.</summary>
    public static HashSet<string> AllFullKeys(FleetModel fleet)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (VirtualMachine machine in fleet.Machines)
        {
            foreach (LicenseSet set in new[] { machine.Before, machine.After }.OfType<LicenseSet>())
            {
                foreach (LicenseTemplate licence in set.All())
                {
                    keys.Add(Domain.Keys.ProductKeyText.Normalize(licence.FullKey)!);
                }
            }

            if (machine.FirmwareKey is { } firmware)
            {
                keys.Add(Domain.Keys.ProductKeyText.Normalize(firmware.FullKey)!);
            }
        }

        return keys;
    }

    /// <summary>
    /// The first of <paramref name="fullKeys"/> hidden in <paramref name="text"/> in any case, with or without dashes;
    /// null when none is. Scans runs of key characters instead of searching for every key.
    /// </summary>
    public static string? FindFullKey(string text, HashSet<string> fullKeys)
    {
        string compact = text.Replace("-", string.Empty, StringComparison.Ordinal).ToUpperInvariant();
        int run = 0;
        for (int i = 0; i < compact.Length; i++)
        {
            run = Domain.Keys.ProductKeyText.KeyCharacters.Contains(compact[i], StringComparison.Ordinal) ? run + 1 : 0;
            if (run >= 25 && fullKeys.Contains(compact.Substring(i - 24, 25)))
            {
                return compact.Substring(i - 24, 25);
            }
        }

        return null;
    }

    internal sealed record Generated(FleetModel Fleet, SimulationClock Clock, MachineTimeline[] Timelines, List<LicenseReportV1>[] Reports)
    {
        public IEnumerable<(VirtualMachine Machine, List<LicenseReportV1> Reports)> Machines() =>
            Fleet.Machines.Select((m, i) => (m, Reports[i]));
    }
}

/// <summary>Real timers and timestamps, but a fixed "now", so two runs build the same history.</summary>
internal sealed class FixedNowTimeProvider(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
