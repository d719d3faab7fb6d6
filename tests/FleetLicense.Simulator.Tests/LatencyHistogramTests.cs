using FleetLicense.Simulator.Load;

namespace FleetLicense.Simulator.Tests;

public sealed class LatencyHistogramTests
{
    [Fact]
    public void Percentile_WhenEmpty_IsZero()
    {
        var histogram = new LatencyHistogram();

        Assert.Equal(0, histogram.PercentileMicroseconds(99));
        Assert.Equal(0, histogram.MaxMicroseconds);
    }

    [Fact]
    public void Percentile_OfSmallValues_IsExact()
    {
        var histogram = new LatencyHistogram();
        for (int v = 1; v <= 100; v++)
        {
            histogram.RecordMicroseconds(v);
        }

        Assert.Equal(50, histogram.PercentileMicroseconds(50));
        Assert.Equal(95, histogram.PercentileMicroseconds(95));
        Assert.Equal(99, histogram.PercentileMicroseconds(99));
        Assert.Equal(100, histogram.PercentileMicroseconds(100));
        Assert.Equal(50.5, histogram.MeanMicroseconds);
    }

    [Fact]
    public void Percentile_OfAWideRange_IsWithinTheBucketPrecision()
    {
        var histogram = new LatencyHistogram();
        for (int ms = 1; ms <= 10_000; ms++)
        {
            histogram.RecordMicroseconds(ms * 1000L);
        }

        foreach ((double p, long expected) in new[] { (50.0, 5_000_000L), (95.0, 9_500_000L), (99.0, 9_900_000L), (99.9, 9_990_000L) })
        {
            long actual = histogram.PercentileMicroseconds(p);
            Assert.InRange(actual, expected, expected + (expected / 64));
        }

        Assert.Equal(10_000_000, histogram.MaxMicroseconds);
        Assert.Equal(10_000_000, histogram.PercentileMicroseconds(100));
        Assert.Equal(10_000, histogram.Count);
    }

    [Fact]
    public void Percentile_WithATail_ReportsTheTail()
    {
        var histogram = new LatencyHistogram();
        for (int i = 0; i < 990; i++)
        {
            histogram.RecordMicroseconds(2_000);
        }

        for (int i = 0; i < 10; i++)
        {
            histogram.RecordMicroseconds(1_500_000);
        }

        Assert.InRange(histogram.PercentileMicroseconds(50), 2_000, 2_032);
        Assert.InRange(histogram.PercentileMicroseconds(99), 2_000, 2_032);
        Assert.InRange(histogram.PercentileMicroseconds(99.5), 1_500_000, 1_500_000);
        Assert.Equal(1_500_000, histogram.MaxMicroseconds);
    }

    [Fact]
    public void Buckets_CoverEveryValueWithBoundedRelativeError()
    {
        int previous = -1;
        for (long v = 0; v < 50_000_000; v = Math.Max(v + 1, (long)(v * 1.01)))
        {
            int bucket = LatencyHistogram.BucketOf(v);
            Assert.True(bucket >= previous);
            previous = bucket;
            long upper = LatencyHistogram.UpperBound(bucket);
            Assert.InRange(upper, v, v + Math.Max(0, v / 64));
        }
    }

    [Fact]
    public void Record_FromManyThreads_CountsEverything()
    {
        var histogram = new LatencyHistogram();

        Parallel.For(0, 100_000, i => histogram.RecordMicroseconds(i % 1000));

        Assert.Equal(100_000, histogram.Count);
        Assert.Equal(999, histogram.MaxMicroseconds);
    }

    [Fact]
    public void Clear_EmptiesEverything()
    {
        var histogram = new LatencyHistogram();
        histogram.RecordMicroseconds(123_456);

        histogram.Clear();

        Assert.Equal(0, histogram.Count);
        Assert.Equal(0, histogram.MaxMicroseconds);
        Assert.Equal(0, histogram.PercentileMicroseconds(50));
    }
}
