using System.Collections.Concurrent;

using FleetLicense.Simulator.Load;

using Microsoft.Extensions.Time.Testing;

namespace FleetLicense.Simulator.Tests;

public sealed class OpenLoopSchedulerTests
{
    [Theory]
    [InlineData(10, 1, 10)]
    [InlineData(200, 60, 12_000)]
    [InlineData(0.5, 10, 5)]
    [InlineData(3, 0.5, 1)]
    public void RequestCount_IsRateTimesDuration(double rate, double seconds, long expected) =>
        Assert.Equal(expected, OpenLoopScheduler.RequestCount(rate, TimeSpan.FromSeconds(seconds)));

    [Fact]
    public void DueOffset_IsIndexOverRate()
    {
        Assert.Equal(TimeSpan.Zero, OpenLoopScheduler.DueOffset(0, 200));
        Assert.Equal(TimeSpan.FromMilliseconds(5), OpenLoopScheduler.DueOffset(1, 200));
        Assert.Equal(TimeSpan.FromSeconds(30), OpenLoopScheduler.DueOffset(6000, 200));
        Assert.Equal(TimeSpan.FromSeconds(1.0 / 3), OpenLoopScheduler.DueOffset(1, 3));
    }

    [Fact]
    public async Task RunAsync_WhenRequestsNeverFinish_StillStartsEachOnSchedule()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var scheduler = new OpenLoopScheduler(time);
        long origin = time.GetTimestamp();
        var started = new ConcurrentQueue<(long Index, long Due, long At)>();
        var never = new TaskCompletionSource();

        Task<long> run = scheduler.RunAsync(10, TimeSpan.FromSeconds(1), (index, due) =>
        {
            started.Enqueue((index, due, time.GetTimestamp()));
            return never.Task;
        }, TestContext.Current.CancellationToken);
        await AdvanceUntilAsync(time, run);

        Assert.Equal(10, await run);
        Assert.Equal(10, scheduler.InFlight);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), started.Select(s => s.Index));
        foreach ((long index, long due, long at) in started)
        {
            // Due at start + i/rate exactly, and never started before it is due.
            Assert.Equal(origin + (index * time.TimestampFrequency / 10), due);
            Assert.True(at >= due);
            Assert.True(time.GetElapsedTime(due, at) < TimeSpan.FromMilliseconds(100));
        }

        never.SetResult();
        await scheduler.DrainAsync(TestContext.Current.CancellationToken);
        Assert.Equal(0, scheduler.InFlight);
    }

    [Fact]
    public async Task RunAsync_WhenCancelled_StopsStarting()
    {
        var time = new FakeTimeProvider();
        var scheduler = new OpenLoopScheduler(time);
        using var cancellation = new CancellationTokenSource();
        int count = 0;

        Task<long> run = scheduler.RunAsync(100, TimeSpan.FromSeconds(10), (_, _) =>
        {
            if (Interlocked.Increment(ref count) == 5)
            {
                cancellation.Cancel();
            }

            return Task.CompletedTask;
        }, cancellation.Token);
        await AdvanceUntilAsync(time, run);

        Assert.Equal(5, await run);
    }

    [Fact]
    public async Task RunAsync_WithRealTime_KeepsTheRateWhileRequestsAreSlow()
    {
        var scheduler = new OpenLoopScheduler(TimeProvider.System);
        var latencies = new ConcurrentBag<TimeSpan>();
        long start = TimeProvider.System.GetTimestamp();

        // 40 requests at 100/s, each taking 200 ms: a closed loop would need 8 s, an open loop about 0.6 s.
        long count = await scheduler.RunAsync(100, TimeSpan.FromSeconds(0.4), async (_, due) =>
        {
            await Task.Delay(200, TestContext.Current.CancellationToken);
            latencies.Add(TimeProvider.System.GetElapsedTime(due));
        }, TestContext.Current.CancellationToken);
        await scheduler.DrainAsync(TestContext.Current.CancellationToken);

        Assert.Equal(40, count);
        Assert.Equal(40, latencies.Count);
        Assert.True(TimeProvider.System.GetElapsedTime(start) < TimeSpan.FromSeconds(3));
        // Each latency holds its own 200 ms wait (not its predecessors'). Timers on a loaded 2-core box fire a few ms
        // early or late against the monotonic clock (193 ms was seen in CI), so the bound leaves them room.
        Assert.All(latencies, l => Assert.True(l >= TimeSpan.FromMilliseconds(150), $"{l.TotalMilliseconds} ms"));
    }

    /// <summary>Moves fake time forward in small steps until the task completes (with a real-time deadline).</summary>
    private static async Task AdvanceUntilAsync(FakeTimeProvider time, Task task)
    {
        long started = TimeProvider.System.GetTimestamp();
        while (!task.IsCompleted)
        {
            Assert.True(TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromSeconds(10), "the scheduler did not finish");
            time.Advance(TimeSpan.FromMilliseconds(1));
            await Task.Yield();
        }
    }
}
