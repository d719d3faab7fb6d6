using FleetLicense.Agent.Upload;

using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FleetLicense.Agent.Service;

/// <summary>Timing of the service loop.</summary>
internal sealed record AgentWorkerOptions
{
    /// <summary>Time between collections; the server's <c>reportIntervalMinutes</c> (default 4 h).</summary>
    public TimeSpan CollectInterval { get; init; } = TimeSpan.FromHours(4);

    /// <summary>Each interval is moved by up to this fraction either way, so a fleet does not report in step.</summary>
    public double Jitter { get; init; } = 0.1;

    /// <summary>
    /// How often the loop looks at the outbox (for reports <c>fleetlicense-agent collect</c> queued) and for a new
    /// enrolment after the token was rejected.
    /// </summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// The service loop: collect at start and then every interval ± jitter, send the outbox whenever it has reports
/// and no retry delay is pending, and stop sending (but keep collecting) while the token is rejected.
/// </summary>
internal sealed partial class AgentWorker(AgentRuntime runtime, AgentWorkerOptions options, TimeProvider time, Random random, ILogger<AgentWorker> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        LogStarted(logger, runtime.Config.Server, runtime.Config.MachineId, options.CollectInterval);
        DateTimeOffset nextCollect = time.GetUtcNow();
        DateTimeOffset nextSend = nextCollect;
        while (!stoppingToken.IsCancellationRequested)
        {
            DateTimeOffset now = time.GetUtcNow();
            if (now >= nextCollect)
            {
                try
                {
                    runtime.CollectIntoOutbox();
                }
#pragma warning disable CA1031 // The service must outlive a failed collection; the next interval tries again.
                catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
                {
                    LogCollectFailed(logger, ex.GetType().Name, ex.Message);
                }

                nextCollect = now + Jittered(options.CollectInterval);
                nextSend = now;
            }

            if (now >= nextSend && !runtime.Store.LoadStatus().NeedsReenrol && runtime.Outbox.Peek(1).Count > 0)
            {
                try
                {
                    DrainResult result = await runtime.DrainAsync(stoppingToken).ConfigureAwait(false);
                    nextSend = result.Outcome == DrainOutcome.RetryLater && result.RetryAfter is { } delay ? now + delay : now;
                }
#pragma warning disable CA1031 // A disk or network surprise must not stop the service; the outbox keeps the reports.
                catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
                {
                    LogSendFailed(logger, ex.GetType().Name, ex.Message);
                    nextSend = now + options.PollInterval;
                }
            }

            DateTimeOffset wakeAt = Min(nextCollect, now + options.PollInterval);
            if (nextSend > now)
            {
                wakeAt = Min(wakeAt, nextSend);
            }

            TimeSpan wait = wakeAt - time.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(wait, time, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        LogStopped(logger);
    }

    private TimeSpan Jittered(TimeSpan interval) =>
        interval * (1 + (options.Jitter * ((2 * random.NextDouble()) - 1)));

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "FleetLicense agent started: server {Server}, machine {MachineId}, collecting every {Interval}")]
    private static partial void LogStarted(ILogger logger, Uri server, Guid machineId, TimeSpan interval);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "FleetLicense agent stopped")]
    private static partial void LogStopped(ILogger logger);

    [LoggerMessage(EventId = 4, Level = LogLevel.Error, Message = "Sending failed unexpectedly ({ExceptionType}): {Message}; the reports stay in the outbox")]
    private static partial void LogSendFailed(ILogger logger, string exceptionType, string message);

    [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "Collection failed ({ExceptionType}): {Message}; trying again next interval")]
    private static partial void LogCollectFailed(ILogger logger, string exceptionType, string message);
}
