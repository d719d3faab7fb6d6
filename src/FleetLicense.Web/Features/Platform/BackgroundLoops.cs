using System.Collections.Concurrent;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace FleetLicense.Web.Features.Platform;

/// <summary>
/// This node's long-running loops (report writers, projector, listeners, refreshers). Whatever a loop throws,
/// it is logged and the loop starts again after a pause; while a loop is down, <c>/health/ready</c> answers 503 so
/// a load balancer sends agents elsewhere. No failure of a loop stops the process.
/// </summary>
public sealed partial class BackgroundLoops(TimeProvider time, ILogger<BackgroundLoops> logger)
{
    private static readonly TimeSpan FirstPause = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LongestPause = TimeSpan.FromSeconds(30);
    private readonly ConcurrentDictionary<string, LoopStatus> _loops = new(StringComparer.Ordinal);

    public IReadOnlyCollection<LoopStatus> All => [.. _loops.Values.OrderBy(l => l.Name, StringComparer.Ordinal)];

    /// <summary>
    /// Runs <paramref name="body"/> until the app stops. When it throws, or returns while the app is not stopping,
    /// the loop is down: the error is logged and recorded, and the body starts again after 1 s, doubling to 30 s.
    /// </summary>
    public async Task KeepRunningAsync(string name, Func<LoopStatus, CancellationToken, Task> body, CancellationToken stoppingToken)
    {
        var status = _loops.GetOrAdd(name, n => new LoopStatus(n, time));
        var pause = FirstPause;
        while (!stoppingToken.IsCancellationRequested)
        {
            status.Up();
            var started = time.GetTimestamp();
            try
            {
                await body(status, stoppingToken);
                if (stoppingToken.IsCancellationRequested)
                {
                    break;
                }

                status.Down(new InvalidOperationException("The loop ended by itself."));
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                status.Down(ex);
                LogLoopDown(logger, ex, name, pause.TotalSeconds);
            }

            // A loop that ran well for a while before failing starts over at the short pause: a database restart
            // an hour after the last one should not keep the loop (and readiness) down for the longest pause.
            if (time.GetElapsedTime(started) > LongestPause)
            {
                pause = FirstPause;
            }

            try
            {
                await Task.Delay(pause, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            pause = pause * 2 > LongestPause ? LongestPause : pause * 2;
        }

        status.Up();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Background loop {Loop} failed and restarts in {Seconds} s")]
    private static partial void LogLoopDown(ILogger logger, Exception exception, string loop, double seconds);
}

/// <summary>How one loop is doing: running, or down since a moment and why; and its last error, even if it recovered.</summary>
public sealed class LoopStatus(string name, TimeProvider time)
{
    private readonly Lock _lock = new();

    public string Name { get; } = name;

    /// <summary>Set while the loop is not running (between a failure and its restart).</summary>
    public DateTimeOffset? DownSince { get; private set; }

    public string? LastError { get; private set; }

    public DateTimeOffset? LastErrorAt { get; private set; }

    public bool IsDown => DownSince is not null;

    /// <summary>Records an error the loop handled itself (a failed batch, say): it goes on running.</summary>
    public void Failed(Exception error) => Record(error, down: false);

    internal void Up()
    {
        lock (_lock)
        {
            DownSince = null;
        }
    }

    internal void Down(Exception error) => Record(error, down: true);

    private void Record(Exception error, bool down)
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            // The type and message only: exception messages here come from Npgsql and our own code, never from report text.
            LastError = $"{error.GetType().Name}: {error.Message}";
            LastErrorAt = now;
            if (down)
            {
                DownSince ??= now;
            }
        }
    }
}

/// <summary>Ready only while every background loop of this node is running.</summary>
internal sealed class BackgroundLoopsHealthCheck(BackgroundLoops loops) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var down = loops.All.Where(l => l.IsDown).ToList();
        return Task.FromResult(down.Count == 0
            ? HealthCheckResult.Healthy($"{loops.All.Count} background loops running.")
            : HealthCheckResult.Unhealthy("Down: " + string.Join("; ", down.Select(l => $"{l.Name} since {l.DownSince:O} ({l.LastError})"))));
    }
}
