namespace FleetLicense.Simulator.Simulation;

/// <summary>
/// The simulated window: from midnight UTC <see cref="Days"/> days before "now" up to "now". "Now" comes from a
/// <see cref="TimeProvider"/> at the CLI edge; starting the window at midnight makes a re-run on the same day send
/// the same reports at the same times (the server then answers <c>duplicate</c>).
/// </summary>
internal sealed class SimulationClock
{
    public SimulationClock(DateTimeOffset now, int days)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(days);
        Now = now.ToUniversalTime();
        Days = days;
        Start = new DateTimeOffset(Now.UtcDateTime.Date, TimeSpan.Zero).AddDays(-days);
    }

    /// <summary>The end of the window; no report is collected after it.</summary>
    public DateTimeOffset Now { get; }

    /// <summary>Midnight UTC, <see cref="Days"/> days before today.</summary>
    public DateTimeOffset Start { get; }

    public int Days { get; }

    /// <summary>The moment at <paramref name="fraction"/> of the window's whole days (independent of the time of day of "now").</summary>
    public DateTimeOffset At(double fraction) => Start + TimeSpan.FromDays(Days * fraction);
}
