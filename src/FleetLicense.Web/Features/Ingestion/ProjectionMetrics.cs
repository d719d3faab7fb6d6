using System.Diagnostics.Metrics;

namespace FleetLicense.Web.Features.Ingestion;

/// <summary>
/// How far behind the projector is: the time from a report's commit to its projection. Published as the
/// <c>fleetlicense.projection.lag</c> histogram and kept in a small window for the System page and the bench.
/// </summary>
public sealed class ProjectionMetrics : IDisposable
{
    private readonly Meter _meter = new("FleetLicense.Ingestion");
    private readonly Histogram<double> _lag;
    private readonly Counter<long> _projected;
    private readonly object _gate = new();
    private readonly double[] _window = new double[8192];
    private long _count;

    public ProjectionMetrics()
    {
        _lag = _meter.CreateHistogram<double>("fleetlicense.projection.lag", "ms", "Time from a report's commit to its projection.");
        _projected = _meter.CreateCounter<long>("fleetlicense.projection.reports", description: "Reports projected.");
    }

    public long Projected => Interlocked.Read(ref _count);

    public void Record(IEnumerable<TimeSpan> lags)
    {
        lock (_gate)
        {
            foreach (var lag in lags)
            {
                var ms = Math.Max(0, lag.TotalMilliseconds);
                _lag.Record(ms);
                _window[_count++ % _window.Length] = ms;
                _projected.Add(1);
            }
        }
    }

    /// <summary>The lag percentile over the most recent projected reports (up to 8192), in milliseconds.</summary>
    public double? RecentLagPercentile(double percentile)
    {
        double[] sample;
        lock (_gate)
        {
            var n = (int)Math.Min(_count, _window.Length);
            if (n == 0)
            {
                return null;
            }

            sample = _window[..n];
        }

        Array.Sort(sample);
        return sample[Math.Clamp((int)Math.Ceiling(percentile / 100 * sample.Length) - 1, 0, sample.Length - 1)];
    }

    public void Dispose() => _meter.Dispose();
}
