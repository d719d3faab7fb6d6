using FleetLicense.Agent.Collection;
using FleetLicense.Agent.Storage;
using FleetLicense.Agent.Upload;
using FleetLicense.Contracts;

using Microsoft.Extensions.Logging;

namespace FleetLicense.Agent.Service;

/// <summary>
/// One enrolled agent: collects into the outbox and drains it, keeping <c>status.json</c> current. Shared by the
/// service loop and the <c>collect</c> command.
/// </summary>
internal sealed partial class AgentRuntime
{
    private readonly AgentStore _store;
    private readonly ReportCollector _collector;
    private readonly ReportUploader _uploader;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public AgentRuntime(AgentStore store, AgentConfig config, ReportCollector collector, HttpClient http, TimeProvider time, ILogger logger, Backoff? backoff = null, OutboxLimits? limits = null)
    {
        _store = store;
        Config = config;
        _collector = collector;
        _time = time;
        _logger = logger;
        Outbox = new Outbox(store.OutboxDirectory, limits ?? new OutboxLimits(), time, logger);
        _uploader = new ReportUploader(new AgentApiClient(http, config.Server, time), Outbox, backoff ?? Backoff.Default(), logger);
    }

    public AgentConfig Config { get; }

    public Outbox Outbox { get; }

    public AgentStore Store => _store;

    /// <summary>Collects a report and commits it to the outbox.</summary>
    public LicenseReportV1 CollectIntoOutbox()
    {
        LicenseReportV1 report = _collector.Collect(_store.LoadFingerprintSecret() ?? ReadOnlyMemory<byte>.Empty);
        Outbox.Enqueue(report);
        _store.UpdateStatus(s => s with { LastCollectedAt = report.CollectedAt });
        LogCollected(_logger, report.ReportId, report.Products.Count);
        return report;
    }

    /// <summary>Sends what is waiting, once; records the outcome in the status file.</summary>
    public async Task<DrainResult> DrainAsync(CancellationToken cancellationToken)
    {
        string? token = _store.LoadToken();
        if (token is null)
        {
            return new DrainResult(DrainOutcome.Unauthorized, 0, 0, null, "no device token stored; enrol again");
        }

        DateTimeOffset started = _time.GetUtcNow();
        DrainResult result = await _uploader.DrainAsync(token, cancellationToken).ConfigureAwait(false);
        DateTimeOffset now = _time.GetUtcNow();
        _store.UpdateStatus(s => s with
        {
            LastAttemptAt = started,
            LastSuccessAt = result.Sent > 0 || result.Outcome == DrainOutcome.Drained ? now : s.LastSuccessAt,
            LastError = result.Error,
            NextAttemptAt = result.RetryAfter is { } delay ? now + delay : null,
            NeedsReenrol = result.Outcome == DrainOutcome.Unauthorized,
            ReportsSent = s.ReportsSent + result.Sent,
            ReportsDropped = s.ReportsDropped + result.Dropped,
        });
        return result;
    }

    [LoggerMessage(EventId = 30, Level = LogLevel.Information, Message = "Collected report {ReportId} ({Products} licensed products) into the outbox")]
    private static partial void LogCollected(ILogger logger, Guid reportId, int products);
}
