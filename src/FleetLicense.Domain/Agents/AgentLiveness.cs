namespace FleetLicense.Domain.Agents;

/// <summary>Whether a machine's agent is keeping its licensing state current. Defined once by <see cref="AgentLiveness.Of"/>.</summary>
public enum Liveness
{
    /// <summary>The agent reported within the window.</summary>
    Active,

    /// <summary>
    /// Nothing heard for longer than the window: the last report (or, for an agent that never reported, its
    /// enrolment) is older than that. What the machine shows may be out of date.
    /// </summary>
    Silent,

    /// <summary>Enrolled within the window and no report yet: new, not (yet) a problem.</summary>
    NeverReported,
}

/// <summary>
/// The one definition of agent liveness, on the time the server last heard from the agent (<c>last_seen_at</c>),
/// with one window kept in the fleet policy. The Overview, the machine grid, the Agents page, stale marking and the
/// agent-silent alert all ask this.
/// </summary>
public static class AgentLiveness
{
    /// <summary>The window when the policy does not say: a week, what the dashboard always showed.</summary>
    public const int DefaultSilentAfterDays = 7;

    /// <summary>The liveness of an agent last seen at <paramref name="lastSeenAt"/> (null: never reported).</summary>
    public static Liveness Of(DateTimeOffset? lastSeenAt, DateTimeOffset enrolledAt, DateTimeOffset now, TimeSpan silentAfter) =>
        LastHeard(lastSeenAt, enrolledAt) < SilentBefore(now, silentAfter) ? Liveness.Silent
        : lastSeenAt is null ? Liveness.NeverReported
        : Liveness.Active;

    /// <summary>When the server last heard from the agent: its last report, else its enrolment.</summary>
    public static DateTimeOffset LastHeard(DateTimeOffset? lastSeenAt, DateTimeOffset enrolledAt) => lastSeenAt ?? enrolledAt;

    /// <summary>
    /// An agent last heard from before this is silent: the cutoff that SQL compares <c>COALESCE(last_seen_at, enrolled_at)</c>
    /// with (strictly less), so queries and <see cref="Of"/> agree to the tick.
    /// </summary>
    public static DateTimeOffset SilentBefore(DateTimeOffset now, TimeSpan silentAfter) => now - silentAfter;

    /// <summary>How people read the state.</summary>
    public static string Label(Liveness liveness) => liveness switch
    {
        Liveness.Silent => "silent",
        Liveness.NeverReported => "never reported",
        _ => "active",
    };
}
