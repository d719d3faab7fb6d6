using System.Threading.Channels;
using FleetLicense.Contracts;
using FleetLicense.Web.Features.Platform;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace FleetLicense.Web.Features.Ingestion;

/// <summary>A validated report waiting to be committed; completed with true when it was already stored.</summary>
public sealed class PendingReport(Guid machineId, LicenseReportV1 report, string json)
{
    private readonly TaskCompletionSource<bool> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Guid ReportId => Report.ReportId;

    public Guid MachineId { get; } = machineId;

    public LicenseReportV1 Report { get; } = report;

    public string Json { get; } = json;

    /// <summary>Completes once the report is durably in PostgreSQL: true if it had been stored before.</summary>
    public Task<bool> Committed => _done.Task;

    internal void Complete(bool duplicate) => _done.TrySetResult(duplicate);

    internal void Fail(Exception error) => _done.TrySetException(error);

    internal void Reject(Exception error) => _done.TrySetException(new ReportRefusedException(error));
}

/// <summary>
/// Group commit: requests hand their reports to a bounded queue and wait; writer loops take whatever has
/// queued up and store it in one statement (one round trip, one commit), then answer every request in the
/// group. A full queue is refused at once (503 + Retry-After) rather than growing memory without bound.
/// </summary>
public sealed partial class ReportWriter : BackgroundService
{
    // receipt (dedup) + raw body + projector work item, in one round trip; only ids not seen before go further.
    private const string Sql = """
        WITH input AS (
            SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::jsonb[]) AS t(report_id, machine_id, collected_at, body)
        ), fresh AS (
            INSERT INTO report_receipts (report_id, machine_id, received_at)
            SELECT report_id, machine_id, $5 FROM input
            ON CONFLICT (report_id) DO NOTHING
            RETURNING report_id
        ), raw AS (
            INSERT INTO raw_reports (report_id, machine_id, received_at, collected_at, body)
            SELECT i.report_id, i.machine_id, $5, i.collected_at, i.body FROM input i JOIN fresh f USING (report_id)
        ), queued AS (
            INSERT INTO projection_queue (report_id, machine_id, received_at)
            SELECT i.report_id, i.machine_id, $5 FROM input i JOIN fresh f USING (report_id)
        )
        SELECT report_id FROM fresh
        """;

    private readonly Channel<PendingReport> _queue;
    private readonly NpgsqlDataSource _dataSource;
    private readonly TimeProvider _time;
    private readonly ProjectionSignal _signal;
    private readonly RecentReports _recent;
    private readonly IngestionOptions _options;
    private readonly ILogger<ReportWriter> _logger;
    private readonly BackgroundLoops _loops;

    public ReportWriter(NpgsqlDataSource dataSource, TimeProvider time, ProjectionSignal signal, RecentReports recent, BackgroundLoops loops, IOptions<IngestionOptions> options, ILogger<ReportWriter> logger)
    {
        _loops = loops;
        _dataSource = dataSource;
        _time = time;
        _signal = signal;
        _recent = recent;
        _options = options.Value;
        _logger = logger;
        _queue = Channel.CreateBounded<PendingReport>(new BoundedChannelOptions(_options.QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = false,
            SingleWriter = false,
        });
    }

    /// <summary>Reports waiting for a writer.</summary>
    public int Backlog => _queue.Reader.Count;

    /// <summary>Whether <paramref name="count"/> more reports would fit in the queue right now.</summary>
    public bool HasRoomFor(int count) => _queue.Reader.Count + count <= _options.QueueCapacity;

    /// <summary>Queues the reports; false (nothing queued) when the queue has no room for all of them.</summary>
    public bool TryEnqueue(IReadOnlyList<PendingReport> reports)
    {
        if (!HasRoomFor(reports.Count))
        {
            return false;
        }

        foreach (var report in reports)
        {
            if (!_queue.Writer.TryWrite(report))
            {
                // Lost a race for the last slots: fail the rest so their callers answer 503, nothing half-stored silently.
                report.Fail(new QueueFullException());
            }
        }

        return true;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, _options.Writers).Select(i => Task.Run(() => _loops.KeepRunningAsync($"report-writer-{i + 1}", WriteLoopAsync, stoppingToken), stoppingToken)));

    private async Task WriteLoopAsync(LoopStatus status, CancellationToken stoppingToken)
    {
        var batch = new List<PendingReport>(_options.WriterBatchSize);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                while (batch.Count < _options.WriterBatchSize && _queue.Reader.TryRead(out var item))
                {
                    batch.Add(item);
                }

                if (batch.Count == 0)
                {
                    // Another writer took what woke this one.
                    continue;
                }

                try
                {
                    await WriteAsync(batch, stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    // Whatever went wrong, these requests are answered (503, nothing acknowledged) and the loop goes on.
                    status.Failed(ex);
                    LogWriteFailed(_logger, ex, batch.Count);
                    foreach (var report in batch)
                    {
                        report.Fail(ex);
                    }
                }

                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: whatever is still queued was never acknowledged, so the agents will resend it.
            foreach (var item in batch)
            {
                item.Fail(new OperationCanceledException("The server is shutting down."));
            }

            while (_queue.Reader.TryRead(out var item))
            {
                item.Fail(new OperationCanceledException("The server is shutting down."));
            }
        }
    }

    /// <summary>
    /// Stores a group in one statement. When the statement fails for a reason that is not the database's state
    /// (a value PostgreSQL refuses, a parameter Npgsql cannot send), one report is to blame: the group is stored
    /// one report at a time, so the others are committed and only the bad one is refused.
    /// </summary>
    private async Task WriteAsync(List<PendingReport> batch, CancellationToken cancellationToken)
    {
        // The same report id twice in one statement would be stored twice: the first one stands for both.
        var unique = batch.DistinctBy(r => r.ReportId).ToList();
        try
        {
            await StoreAsync(batch, unique, cancellationToken);
        }
        catch (Exception ex) when (IsReportsFault(ex))
        {
            if (unique.Count == 1)
            {
                LogReportRefused(_logger, ex, unique[0].ReportId, unique[0].MachineId);
                foreach (var report in batch)
                {
                    report.Reject(ex);
                }

                return;
            }

            LogIsolating(_logger, ex, unique.Count);
            foreach (var group in batch.GroupBy(r => r.ReportId))
            {
                await WriteAsync([.. group], cancellationToken);
            }
        }
    }

    /// <summary>
    /// A value the database or Npgsql refused (PostgreSQL's data exceptions, class 22, or a parameter Npgsql cannot
    /// send), as opposed to the database being down, busy or missing a partition. Only these refuse a report:
    /// anything else is answered 503 and retried by the agent, so an outage never turns into dropped reports.
    /// </summary>
    private static bool IsReportsFault(Exception ex) =>
        ex is PostgresException { SqlState: ['2', '2', ..] }
            or ArgumentException or FormatException or InvalidCastException or OverflowException or System.Text.EncoderFallbackException;

    private async Task StoreAsync(List<PendingReport> batch, List<PendingReport> unique, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(Sql);
        command.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. unique.Select(r => r.ReportId)] });
        command.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. unique.Select(r => r.MachineId)] });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]> { TypedValue = [.. unique.Select(r => r.Report.CollectedAt)] });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. unique.Select(r => r.Json)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = _time.GetUtcNow() });
        var fresh = new HashSet<Guid>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                fresh.Add(reader.GetGuid(0));
            }
        }

        var first = new HashSet<Guid>();
        foreach (var report in batch)
        {
            // Only the first request carrying a fresh id stored it; any other is a duplicate.
            var stored = fresh.Contains(report.ReportId) && first.Add(report.ReportId);
            if (stored)
            {
                _recent.Add(report.MachineId, report.Report, report.Json.Length);
            }

            report.Complete(duplicate: !stored);
        }

        if (fresh.Count > 0)
        {
            _signal.Notify();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Storing a group of {Count} reports failed; their requests are answered 503 and agents retry")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Storing a group of {Count} reports failed on a value; storing them one by one so only the bad report is refused")]
    private static partial void LogIsolating(ILogger logger, Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Report {ReportId} of machine {MachineId} could not be stored and was refused (400); this is a validation gap to fix")]
    private static partial void LogReportRefused(ILogger logger, Exception exception, Guid reportId, Guid machineId);
}

/// <summary>The database refused one report for its content; the request is answered 400 and nothing of it is stored.</summary>
public sealed class ReportRefusedException(Exception inner)
    : Exception("The report holds a value the database refused; it was not stored.", inner);

public sealed class QueueFullException() : Exception("The ingestion queue is full.");

/// <summary>Wakes the projector on this node when new reports are committed (other nodes' projectors poll).</summary>
public sealed class ProjectionSignal : IDisposable
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Notify()
    {
        if (_signal.CurrentCount == 0)
        {
            try
            {
                _signal.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already signalled.
            }
        }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _signal.WaitAsync(timeout, cancellationToken);

    public void Dispose() => _signal.Dispose();
}
