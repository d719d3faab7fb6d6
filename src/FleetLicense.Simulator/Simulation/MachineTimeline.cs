using FleetLicense.Simulator.Fleet;

namespace FleetLicense.Simulator.Simulation;

/// <summary>One phase of a machine's licensing history.</summary>
/// <param name="Start">When the phase begins.</param>
/// <param name="Licences">The licences during the phase.</param>
/// <param name="KmsAnchor">A moment a KMS client (re)activated; renewals follow every 7 days.</param>
/// <param name="GraceDeadline">When a <see cref="GraceKind.Deadline"/> grace period ends.</param>
internal sealed record TimelinePhase(DateTimeOffset Start, LicenseSet Licences, DateTimeOffset KmsAnchor, DateTimeOffset? GraceDeadline);

/// <summary>One report of the history: when it was collected, its id, and the phase it describes.</summary>
internal sealed record TimelineEntry(DateTimeOffset CollectedAt, Guid ReportId, TimelinePhase Phase);

/// <summary>
/// Turns a machine's plan into dated phases and report times within a <see cref="SimulationClock"/> window:
/// a report every 1–3 days at the machine's time of day (±30 min), plus one minutes after each change. Report ids
/// are the machine's id series in time order, so the same seed and day give the same ids.
/// </summary>
internal sealed class MachineTimeline
{
    /// <summary>A KMS client renews its activation every 7 days (<c>VLRenewalInterval</c> 10080).</summary>
    public static readonly TimeSpan KmsRenewalInterval = TimeSpan.FromDays(7);

    /// <summary>The initial and additional grace periods last 30 days.</summary>
    public static readonly TimeSpan GracePeriod = TimeSpan.FromDays(30);

    private MachineTimeline(VirtualMachine machine, SimulationClock clock, IReadOnlyList<TimelinePhase> phases, IReadOnlyList<TimelineEntry> entries, DateTimeOffset lastReportAllowed)
    {
        Machine = machine;
        Clock = clock;
        Phases = phases;
        Entries = entries;
        LastReportAllowed = lastReportAllowed;
    }

    public VirtualMachine Machine { get; }

    public SimulationClock Clock { get; }

    public IReadOnlyList<TimelinePhase> Phases { get; }

    /// <summary>The reports, oldest first.</summary>
    public IReadOnlyList<TimelineEntry> Entries { get; }

    /// <summary>"Now", or earlier for a silent agent.</summary>
    public DateTimeOffset LastReportAllowed { get; }

    /// <summary>The phase in force at <paramref name="at"/> (the first phase before the machine existed).</summary>
    public TimelinePhase PhaseAt(DateTimeOffset at)
    {
        TimelinePhase current = Phases[0];
        foreach (TimelinePhase phase in Phases)
        {
            if (phase.Start <= at)
            {
                current = phase;
            }
        }

        return current;
    }

    public static MachineTimeline Build(VirtualMachine machine, SimulationClock clock)
    {
        ArgumentNullException.ThrowIfNull(machine);
        ArgumentNullException.ThrowIfNull(clock);
        List<TimelinePhase> phases = BuildPhases(machine, clock);
        DateTimeOffset end = machine.Scenario == Scenario.Silent
            ? clock.Now - TimeSpan.FromDays(Math.Min(machine.SilentDays, clock.Days / 2.0))
            : clock.Now;
        DateTimeOffset first = phases[0].Start;

        var times = new List<DateTimeOffset>();
        for (int day = 0; day <= clock.Days; day += machine.ReportEveryDays)
        {
            int jitter = (int)(Seeded.Mix((ulong)machine.Seed ^ (ulong)day) % 61) - 30;
            DateTimeOffset at = clock.Start + TimeSpan.FromDays(day) + TimeSpan.FromMinutes(machine.ReportMinuteOfDay + jitter);
            if (at >= first && at <= end)
            {
                times.Add(at);
            }
        }

        // The agent reports soon after a change, not only on its schedule.
        foreach (TimelinePhase phase in phases)
        {
            int delay = 5 + (int)(Seeded.Mix((ulong)machine.Seed + (ulong)phase.Start.UtcTicks) % 20);
            DateTimeOffset at = phase.Start + TimeSpan.FromMinutes(delay);
            if (at <= end && !times.Contains(at))
            {
                times.Add(at);
            }
        }

        times.Sort();
        var entries = new List<TimelineEntry>(times.Count);
        var owner = new MachineTimeline(machine, clock, phases, entries, end);
        for (int i = 0; i < times.Count; i++)
        {
            entries.Add(new TimelineEntry(times[i], Seeded.Derive(machine.ReportIdBase, i), owner.PhaseAt(times[i])));
        }

        return owner;
    }

    private static List<TimelinePhase> BuildPhases(VirtualMachine machine, SimulationClock clock)
    {
        // A KMS client that existed before the window renewed some time in the week before it.
        DateTimeOffset preAnchor = clock.Start - TimeSpan.FromMinutes(machine.KmsRenewalPhaseMinutes);
        var phases = new List<TimelinePhase>();
        switch (machine.Scenario)
        {
            case Scenario.GraceRunningOut:
                {
                    DateTimeOffset deadline = clock.Now + TimeSpan.FromDays(machine.GraceDaysLeft);
                    DateTimeOffset graceStart = deadline - GracePeriod;
                    if (graceStart < clock.Start)
                    {
                        graceStart = clock.Start;
                    }

                    if (machine.After is null)
                    {
                        phases.Add(new TimelinePhase(graceStart, machine.Before, graceStart, deadline));
                    }
                    else
                    {
                        phases.Add(new TimelinePhase(clock.Start, machine.Before, preAnchor, null));
                        phases.Add(new TimelinePhase(graceStart, machine.After, graceStart, deadline));
                    }

                    break;
                }

            case Scenario.Activation when machine.After is not null:
                {
                    DateTimeOffset installed = clock.At(machine.ChangeAt);
                    DateTimeOffset activated = installed + TimeSpan.FromDays(machine.ActivationDelayDays)
                        + TimeSpan.FromMinutes((double)(Seeded.Mix((ulong)machine.Seed) % 600));
                    phases.Add(new TimelinePhase(installed, machine.Before, installed, installed + GracePeriod));
                    phases.Add(new TimelinePhase(activated, machine.After, activated, null));
                    break;
                }

            default:
                if (machine.After is null)
                {
                    phases.Add(new TimelinePhase(clock.Start, machine.Before, preAnchor, null));
                }
                else if (machine.ChangeAt <= 0)
                {
                    // The change happened before the window: only its result is seen.
                    phases.Add(new TimelinePhase(clock.Start, machine.After, preAnchor, null));
                }
                else
                {
                    DateTimeOffset changed = clock.At(machine.ChangeAt);
                    phases.Add(new TimelinePhase(clock.Start, machine.Before, preAnchor, null));
                    phases.Add(new TimelinePhase(changed, machine.After, changed, null));
                }

                break;
        }

        // A phase that the next one replaces at once (a short window) never shows.
        if (phases.Count == 2 && phases[1].Start <= phases[0].Start)
        {
            phases.RemoveAt(0);
        }

        return phases;
    }
}
