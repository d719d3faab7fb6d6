using System.Globalization;
using System.Text;

using FleetLicense.Simulator.Http;

namespace FleetLicense.Simulator.Load;

/// <summary>Counters of one period (or the whole run): requests by status, reports, latency. Thread-safe, fixed memory.</summary>
internal sealed class LoadCounters
{
    private readonly long[] _byStatus = new long[600];
    private long _reports;

    public LatencyHistogram Latency { get; } = new();

    /// <summary>Completed requests (with or without an HTTP answer).</summary>
    public long Requests => Latency.Count;

    /// <summary>Reports in requests answered 2xx.</summary>
    public long Reports => Interlocked.Read(ref _reports);

    public long Ok => NonZero().Where(s => s.Status is >= 200 and < 300).Sum(s => s.Count);

    public void Record(int status, int reports, long latencyMicroseconds)
    {
        Interlocked.Increment(ref _byStatus[Math.Clamp(status, 0, _byStatus.Length - 1)]);
        if (status is >= 200 and < 300)
        {
            Interlocked.Add(ref _reports, reports);
        }

        Latency.RecordMicroseconds(latencyMicroseconds);
    }

    public IEnumerable<(int Status, long Count)> NonZero()
    {
        for (int i = 0; i < _byStatus.Length; i++)
        {
            long count = Interlocked.Read(ref _byStatus[i]);
            if (count > 0)
            {
                yield return (i, count);
            }
        }
    }

    public IEnumerable<(int Status, long Count)> Errors() => NonZero().Where(s => s.Status is < 200 or >= 300);

    public long CountOf(int status) => Interlocked.Read(ref _byStatus[status]);

    public void Clear()
    {
        Array.Clear(_byStatus);
        Interlocked.Exchange(ref _reports, 0);
        Latency.Clear();
    }
}

/// <summary>
/// Load statistics: exact totals plus a window that the progress printer swaps out every few seconds (a record
/// racing the swap may land in the neighbouring window; totals are exact).
/// </summary>
internal sealed class LoadStats
{
    private LoadCounters _window = new();
    private LoadCounters _spare = new();

    public LoadCounters Total { get; } = new();

    public void Record(int status, int reports, long latencyMicroseconds)
    {
        Total.Record(status, reports, latencyMicroseconds);
        Volatile.Read(ref _window).Record(status, reports, latencyMicroseconds);
    }

    /// <summary>Starts a new window and hands back the finished one; pass it to <see cref="Recycle"/> when read.</summary>
    public LoadCounters SwapWindow() => Interlocked.Exchange(ref _window, _spare);

    public void Recycle(LoadCounters finished)
    {
        ArgumentNullException.ThrowIfNull(finished);
        finished.Clear();
        _spare = finished;
    }

    /// <summary>
    /// <c>200.0 req/s  200.0 reports/s  ok 1,000  errors 503=3  p50 1.92 ms  p95 3.10 ms  p99 4.87 ms  max 12.05 ms</c>
    /// </summary>
    public static string Format(LoadCounters counters, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(counters);
        double seconds = Math.Max(period.TotalSeconds, 1e-9);
        var line = new StringBuilder();
        line.Append(CultureInfo.InvariantCulture, $"{counters.Requests / seconds,7:0.0} req/s  {counters.Reports / seconds,7:0.0} reports/s  ok {counters.Ok:N0}  errors ");
        (int Status, long Count)[] errors = [.. counters.Errors()];
        line.Append(errors.Length == 0 ? "none" : string.Join(' ', errors.Select(e => string.Create(CultureInfo.InvariantCulture, $"{NoResponse.Describe(e.Status)}={e.Count:N0}"))));
        LatencyHistogram latency = counters.Latency;
        line.Append(CultureInfo.InvariantCulture, $"  p50 {Ms(latency.PercentileMicroseconds(50))}  p95 {Ms(latency.PercentileMicroseconds(95))}  p99 {Ms(latency.PercentileMicroseconds(99))}  max {Ms(latency.MaxMicroseconds)}");
        return line.ToString();
    }

    private static string Ms(long microseconds) => string.Create(CultureInfo.InvariantCulture, $"{microseconds / 1000.0:0.00} ms");
}
