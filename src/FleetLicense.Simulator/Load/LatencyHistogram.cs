using System.Numerics;

namespace FleetLicense.Simulator.Load;

/// <summary>
/// A log-linear latency histogram in microseconds (the HdrHistogram layout with 2 significant digits): values below
/// 128 µs are exact, above that each power of two is split into 64 buckets, so a reported percentile is at most
/// 1/64 (1.6 %) above the true value. Fixed memory (2,432 counters, about 19 KB) whatever the run length; recording
/// is lock-free and allocation-free, so it is safe from any thread.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int LinearBuckets = 128;
    private const int SubBuckets = 64;
    private const int MaxShift = 36; // 2^(36+7) µs ≈ 100 days: nothing a request can take.

    private readonly long[] _counts = new long[LinearBuckets + (MaxShift * SubBuckets)];
    private long _count;
    private long _max;
    private long _sum;

    public long Count => Interlocked.Read(ref _count);

    /// <summary>The largest value recorded, exact.</summary>
    public long MaxMicroseconds => Interlocked.Read(ref _max);

    public double MeanMicroseconds => Count == 0 ? 0 : (double)Interlocked.Read(ref _sum) / Count;

    public void Record(TimeSpan latency) => RecordMicroseconds((long)latency.TotalMicroseconds);

    public void RecordMicroseconds(long microseconds)
    {
        long value = Math.Max(0, microseconds);
        Interlocked.Increment(ref _counts[BucketOf(value)]);
        Interlocked.Increment(ref _count);
        Interlocked.Add(ref _sum, value);
        long max = Interlocked.Read(ref _max);
        while (value > max)
        {
            long seen = Interlocked.CompareExchange(ref _max, value, max);
            if (seen == max)
            {
                break;
            }

            max = seen;
        }
    }

    /// <summary>
    /// The value at <paramref name="percentile"/> (0–100]: the upper end of the bucket holding the
    /// ceil(p/100 × count)-th smallest value, never above the exact maximum. 0 when empty.
    /// </summary>
    public long PercentileMicroseconds(double percentile)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(percentile);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percentile, 100);
        long total = Count;
        if (total == 0)
        {
            return 0;
        }

        long rank = Math.Max(1, (long)Math.Ceiling(percentile / 100 * total));
        long seen = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            seen += Interlocked.Read(ref _counts[i]);
            if (seen >= rank)
            {
                return Math.Min(UpperBound(i), MaxMicroseconds);
            }
        }

        return MaxMicroseconds;
    }

    public void Clear()
    {
        Array.Clear(_counts);
        Interlocked.Exchange(ref _count, 0);
        Interlocked.Exchange(ref _max, 0);
        Interlocked.Exchange(ref _sum, 0);
    }

    internal static int BucketOf(long value)
    {
        if (value < LinearBuckets)
        {
            return (int)value;
        }

        // Keep the top 7 bits: top is in [64, 127], shift >= 1.
        int msb = 63 - BitOperations.LeadingZeroCount((ulong)value);
        int shift = Math.Min(msb - 6, MaxShift);
        long top = Math.Min(value >> shift, (2 * SubBuckets) - 1);
        return LinearBuckets + ((shift - 1) * SubBuckets) + (int)(top - SubBuckets);
    }

    /// <summary>The largest value that falls in bucket <paramref name="index"/>.</summary>
    internal static long UpperBound(int index)
    {
        if (index < LinearBuckets)
        {
            return index;
        }

        int shift = ((index - LinearBuckets) / SubBuckets) + 1;
        long top = ((index - LinearBuckets) % SubBuckets) + SubBuckets;
        return ((top + 1) << shift) - 1;
    }
}
