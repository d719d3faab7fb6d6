namespace FleetLicense.Agent.Upload;

/// <summary>
/// Exponential backoff with full jitter (a random delay up to a ceiling that doubles per failure), so that thousands
/// of agents coming back after an outage spread out instead of arriving together. A floor of <see cref="Initial"/>
/// keeps a retry from following a failure at once.
/// </summary>
internal sealed class Backoff(TimeSpan initial, TimeSpan maximum, Random random)
{
    private int _failures;

    public static Backoff Default() => new(TimeSpan.FromSeconds(1), TimeSpan.FromHours(1), Random.Shared);

    public TimeSpan Initial => initial;

    public TimeSpan Maximum => maximum;

    public int Failures => _failures;

    /// <summary>Records a failure and returns how long to wait before the next attempt.</summary>
    public TimeSpan NextDelay()
    {
        _failures = Math.Min(_failures + 1, 62);
        double ceiling = Math.Min(maximum.TotalSeconds, initial.TotalSeconds * Math.Pow(2, _failures - 1));
        double seconds = Math.Max(initial.TotalSeconds, random.NextDouble() * ceiling);
        return TimeSpan.FromSeconds(seconds);
    }

    public void Reset() => _failures = 0;
}
