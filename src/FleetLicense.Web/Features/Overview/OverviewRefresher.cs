using FleetLicense.Web.Features.Live;
using FleetLicense.Web.Features.Platform;

namespace FleetLicense.Web.Features.Overview;

/// <summary>
/// Keeps each node's overview current in the background (every <see cref="OverviewService.MaxAge"/>, sooner after
/// fleet changes), so opening the Overview reads a kept result instead of waiting for a fleet-wide scan.
/// </summary>
public sealed partial class OverviewRefresher(OverviewService overview, FleetChanges changes, BackgroundLoops loops, TimeProvider time, ILogger<OverviewRefresher> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => loops.KeepRunningAsync("overview-refresher", RunAsync, stoppingToken);

    private async Task RunAsync(LoopStatus status, CancellationToken stoppingToken)
    {
        var changed = 0;
        void OnChanged(IReadOnlyCollection<Guid> _) => Interlocked.Exchange(ref changed, 1);
        changes.Changed += OnChanged;
        try
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(2), time);
            var maxAge = TimeSpan.Zero;
            do
            {
                try
                {
                    await overview.GetAsync(stoppingToken, maxAge);
                }
                catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException or InvalidOperationException)
                {
                    status.Failed(ex);
                    LogRefreshFailed(logger, ex);
                }

                maxAge = Interlocked.Exchange(ref changed, 0) == 1 ? OverviewService.ChangedMaxAge : OverviewService.MaxAge - TimeSpan.FromSeconds(2);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
        finally
        {
            changes.Changed -= OnChanged;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refreshing the fleet overview failed; pages keep the last one")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);
}
