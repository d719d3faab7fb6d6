namespace FleetLicense.Simulator.Load;

/// <summary>
/// Open-loop request schedule: request <c>i</c> is due at <c>start + i / rate</c> whatever happened to the earlier
/// ones, so a slow server gets more concurrent requests instead of fewer requests (no coordinated omission).
/// Latency must be measured from the scheduled time handed to the callback, not from when the request left.
/// </summary>
internal sealed class OpenLoopScheduler(TimeProvider time)
{
    private int _inFlight;
    private TaskCompletionSource? _drained;

    /// <summary>Requests started and not yet finished.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Number of requests a run at <paramref name="rate"/> per second for <paramref name="duration"/> schedules.</summary>
    public static long RequestCount(double rate, TimeSpan duration) => (long)Math.Floor((rate * duration.TotalSeconds) + 1e-9);

    /// <summary>When request <paramref name="index"/> is due, measured from the start of the run.</summary>
    public static TimeSpan DueOffset(long index, double rate) => TimeSpan.FromTicks((long)Math.Round(index * TimeSpan.TicksPerSecond / rate));

    /// <summary>
    /// Starts <c>send(index, scheduledTimestamp)</c> for every request when it is due (timestamps from
    /// <see cref="TimeProvider.GetTimestamp"/>) without waiting for earlier ones. Returns the number started once the
    /// last is started (cancellation stops starting more); <see cref="DrainAsync"/> waits for them to finish.
    /// </summary>
    public async Task<long> RunAsync(double rate, TimeSpan duration, Func<long, long, Task> send, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(send);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rate);
        long total = RequestCount(rate, duration);
        long start = time.GetTimestamp();
        double ticksPerRequest = time.TimestampFrequency / rate;
        long started = 0;
        for (long i = 0; i < total; i++)
        {
            long due = start + (long)Math.Round(i * ticksPerRequest);
            long now = time.GetTimestamp();
            if (due > now)
            {
                try
                {
                    await Task.Delay(time.GetElapsedTime(now, due), time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    break;
                }
            }

            if (cancellationToken.IsCancellationRequested)
            {
                break;
            }

            Interlocked.Increment(ref _inFlight);
            started++;
            _ = Track(send(i, due));
        }

        return started;
    }

    /// <summary>Waits until every started request has finished, or the token is cancelled.</summary>
    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        TaskCompletionSource drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Exchange(ref _drained, drained);
        if (InFlight == 0)
        {
            return;
        }

        await drained.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task Track(Task request)
    {
        try
        {
            await request.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // A cancelled run: the callback records what it wants.
        }
        finally
        {
            if (Interlocked.Decrement(ref _inFlight) == 0)
            {
                Volatile.Read(ref _drained)?.TrySetResult();
            }
        }
    }
}
