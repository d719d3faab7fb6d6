using FleetLicense.Agent.Storage;
using FleetLicense.Contracts;

using Microsoft.Extensions.Logging;

namespace FleetLicense.Agent.Upload;

internal enum DrainOutcome
{
    /// <summary>The outbox is empty.</summary>
    Drained,

    /// <summary>Something failed that may pass: wait <see cref="DrainResult.RetryAfter"/> and try again.</summary>
    RetryLater,

    /// <summary>The server rejected the device token: stop sending until the machine is enrolled again.</summary>
    Unauthorized,
}

/// <summary>The outcome of one <see cref="ReportUploader.DrainAsync"/>.</summary>
internal sealed record DrainResult(DrainOutcome Outcome, int Sent, int Dropped, TimeSpan? RetryAfter = null, string? Error = null);

/// <summary>
/// Sends the outbox, oldest first: the batch endpoint when several reports wait (at most 100 per batch), the single
/// endpoint otherwise. A report leaves the outbox only when an acknowledgement names it, or when the server
/// rejected it as invalid (400, logged), which no retry can change. Transient failures end the drain with a delay:
/// Retry-After on 429/503, exponential backoff with jitter otherwise.
/// </summary>
internal sealed partial class ReportUploader(AgentApiClient api, Outbox outbox, Backoff backoff, ILogger logger)
{
    private int _batchSize = AgentApiClient.MaxBatchSize;

    public async Task<DrainResult> DrainAsync(string token, CancellationToken cancellationToken)
    {
        int sent = 0, dropped = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var batch = new List<(OutboxEntry Entry, LicenseReportV1 Report)>();
            IReadOnlyList<OutboxEntry> peeked = outbox.Peek(_batchSize);
            foreach (OutboxEntry entry in peeked)
            {
                if (outbox.Read(entry) is { } report)
                {
                    batch.Add((entry, report));
                }
                else
                {
                    dropped++;
                }
            }

            if (batch.Count == 0)
            {
                if (peeked.Count > 0)
                {
                    // Unreadable files were dropped; if one could not even be deleted, do not spin on it.
                    if (peeked.All(e => File.Exists(e.Path)))
                    {
                        return Retry(sent, dropped, "outbox files are unreadable and cannot be removed");
                    }

                    continue;
                }

                backoff.Reset();
                return new DrainResult(DrainOutcome.Drained, sent, dropped);
            }

            if (batch.Count == 1)
            {
                (DrainResult? stop, bool wasSent) = await SendOneAsync(batch[0].Report, token, cancellationToken).ConfigureAwait(false);
                if (stop is not null)
                {
                    return stop with { Sent = sent, Dropped = dropped };
                }

                _ = wasSent ? sent++ : dropped++;
                continue;
            }

            ApiResult<ReportBatchAckV1> result = await api.SendBatchAsync([.. batch.Select(b => b.Report)], token, cancellationToken).ConfigureAwait(false);
            switch (result.Outcome)
            {
                case ApiOutcome.Ok:
                    var acked = result.Value!.Results.Select(r => r.ReportId).ToHashSet();
                    int before = sent;
                    foreach ((OutboxEntry entry, LicenseReportV1 report) in batch.Where(b => acked.Contains(b.Report.ReportId)))
                    {
                        outbox.Remove(report.ReportId);
                        sent++;
                    }

                    if (sent == before)
                    {
                        return Retry(sent, dropped, "the server acknowledged none of the reports in the batch");
                    }

                    backoff.Reset();
                    _batchSize = Math.Min(AgentApiClient.MaxBatchSize, _batchSize * 2);
                    LogBatchSent(logger, sent - before, batch.Count);
                    break;
                case ApiOutcome.Rejected:
                    // One invalid report rejects the whole batch: send one by one to find and drop it.
                    LogBatchRejected(logger, batch.Count, result.Message);
                    foreach ((_, LicenseReportV1 report) in batch)
                    {
                        (DrainResult? stop, bool wasSent) = await SendOneAsync(report, token, cancellationToken).ConfigureAwait(false);
                        if (stop is not null)
                        {
                            return stop with { Sent = sent, Dropped = dropped };
                        }

                        _ = wasSent ? sent++ : dropped++;
                    }

                    break;
                case ApiOutcome.TooLarge:
                    _batchSize = Math.Max(1, batch.Count / 2);
                    LogBatchTooLarge(logger, batch.Count, _batchSize);
                    break;
                case ApiOutcome.Unauthorized:
                    return Unauthorized(sent, dropped, result.Message);
                case ApiOutcome.Throttled:
                    return Throttled(sent, dropped, result.RetryAfter, result.Message);
                default:
                    return Retry(sent, dropped, result.Message);
            }
        }
    }

    // Returns a DrainResult to stop draining, or null with whether the report was sent (true) or dropped (false).
    private async Task<(DrainResult? Stop, bool Sent)> SendOneAsync(LicenseReportV1 report, string token, CancellationToken cancellationToken)
    {
        ApiResult<ReportAckV1> result = await api.SendReportAsync(report, token, cancellationToken).ConfigureAwait(false);
        switch (result.Outcome)
        {
            case ApiOutcome.Ok:
                outbox.Remove(report.ReportId);
                backoff.Reset();
                LogSent(logger, report.ReportId, result.Value!.Duplicate);
                return (null, true);
            case ApiOutcome.Rejected or ApiOutcome.TooLarge:
                // Sending it again cannot change the answer; keeping it would block every later report.
                outbox.Remove(report.ReportId);
                LogReportDropped(logger, report.ReportId, report.CollectedAt, result.Message);
                return (null, false);
            case ApiOutcome.Unauthorized:
                return (Unauthorized(0, 0, result.Message), false);
            case ApiOutcome.Throttled:
                return (Throttled(0, 0, result.RetryAfter, result.Message), false);
            default:
                return (Retry(0, 0, result.Message), false);
        }
    }

    private DrainResult Unauthorized(int sent, int dropped, string message)
    {
        LogUnauthorized(logger, message);
        return new DrainResult(DrainOutcome.Unauthorized, sent, dropped, null, $"device token rejected ({message}); enrol again: fleetlicense-agent enroll --server URL --secret SECRET");
    }

    private DrainResult Throttled(int sent, int dropped, TimeSpan? retryAfter, string message)
    {
        // The server knows its load best: its Retry-After wins over our own backoff.
        TimeSpan delay = retryAfter is { } ra ? (ra > backoff.Maximum ? backoff.Maximum : ra) : backoff.NextDelay();
        LogRetry(logger, message, delay);
        return new DrainResult(DrainOutcome.RetryLater, sent, dropped, delay, message);
    }

    private DrainResult Retry(int sent, int dropped, string message)
    {
        TimeSpan delay = backoff.NextDelay();
        LogRetry(logger, message, delay);
        return new DrainResult(DrainOutcome.RetryLater, sent, dropped, delay, message);
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "Report {ReportId} sent (duplicate: {Duplicate})")]
    private static partial void LogSent(ILogger logger, Guid reportId, bool duplicate);

    [LoggerMessage(EventId = 21, Level = LogLevel.Information, Message = "Batch sent: {Acknowledged} of {Count} reports acknowledged")]
    private static partial void LogBatchSent(ILogger logger, int acknowledged, int count);

    [LoggerMessage(EventId = 22, Level = LogLevel.Warning, Message = "Batch of {Count} reports rejected ({Reason}); sending them one by one to find the invalid one")]
    private static partial void LogBatchRejected(ILogger logger, int count, string reason);

    [LoggerMessage(EventId = 23, Level = LogLevel.Warning, Message = "Batch of {Count} reports too large for the server; retrying with at most {BatchSize}")]
    private static partial void LogBatchTooLarge(ILogger logger, int count, int batchSize);

    [LoggerMessage(EventId = 24, Level = LogLevel.Error, Message = "Report {ReportId} collected {CollectedAt} was rejected by the server and dropped: {Reason}")]
    private static partial void LogReportDropped(ILogger logger, Guid reportId, DateTimeOffset collectedAt, string reason);

    [LoggerMessage(EventId = 25, Level = LogLevel.Error, Message = "The server rejected this machine's device token ({Reason}); nothing more is sent until it is enrolled again (fleetlicense-agent enroll)")]
    private static partial void LogUnauthorized(ILogger logger, string reason);

    [LoggerMessage(EventId = 26, Level = LogLevel.Warning, Message = "Sending failed ({Reason}); next attempt in {Delay}")]
    private static partial void LogRetry(ILogger logger, string reason, TimeSpan delay);
}
