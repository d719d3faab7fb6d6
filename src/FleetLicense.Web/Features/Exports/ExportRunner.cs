using FleetLicense.Web.Data;
using FleetLicense.Web.Features.Accounts;
using FleetLicense.Web.Features.Audit;
using FleetLicense.Web.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace FleetLicense.Web.Features.Exports;

/// <summary>
/// Writes queued exports in the background, on whichever node of the cluster runs <see cref="ExportJob"/>. A node
/// claims one export at a time (<c>FOR UPDATE SKIP LOCKED</c>, so two nodes never take the same one), writes it into
/// the database, digests and signs it. While it writes it beats every <see cref="Heartbeat"/>: the beat stores the
/// rows written so far (the progress bar) and reads the cancel request. A run whose node died stops beating, and
/// after <see cref="Lost"/> another node takes it over and writes it again from the start; a node that stops
/// cleanly puts its export back in the queue. Either way a file is offered only once it is whole and signed.
/// </summary>
public sealed partial class ExportRunner(
    IDbContextFactory<FleetLicenseDbContext> dbFactory,
    NpgsqlDataSource dataSource,
    ComplianceReports reports,
    InventoryReport inventory,
    ExportSigner signer,
    ExportSchedules schedules,
    AuditTrail trail,
    IOptions<ExportsOptions> options,
    TimeProvider time,
    ILogger<ExportRunner> logger)
{
    public static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(5);

    /// <summary>This long without a beat, a run is taken for dead: many beats, so a slow database does not lose a live run.</summary>
    public static readonly TimeSpan Lost = TimeSpan.FromMinutes(1);

    /// <summary>A run started this many times (every node writing it died or stopped) fails instead of trying again.</summary>
    public const int MaxAttempts = 5;

    /// <summary>
    /// Writes queued exports (and takes over lost runs) until none is left, up to
    /// <see cref="ExportsOptions.ParallelPerNode"/> side by side; returns how many it finished. The job runs once in
    /// the cluster, so a writer with nothing to claim waits while another still writes: an export queued meanwhile
    /// starts at once instead of after the long one.
    /// </summary>
    public async Task<int> RunQueuedAsync(string node, CancellationToken cancellationToken)
    {
        var writing = 0;
        async Task<int> WriterAsync()
        {
            var finished = 0;
            while (true)
            {
                if (await ClaimAsync(node, cancellationToken) is { } export)
                {
                    Interlocked.Increment(ref writing);
                    try
                    {
                        finished += await RunAsync(export, cancellationToken) ? 1 : 0;
                    }
                    finally
                    {
                        Interlocked.Decrement(ref writing);
                    }
                }
                else if (Volatile.Read(ref writing) > 0)
                {
                    await Task.Delay(Heartbeat, time, cancellationToken);
                }
                else
                {
                    return finished;
                }
            }
        }

        return (await Task.WhenAll(Enumerable.Range(0, options.Value.ParallelPerNode).Select(_ => WriterAsync()))).Sum();
    }

    /// <summary>The oldest queued export, or a running one whose node stopped beating, now owned by this node's new attempt.</summary>
    private async Task<Export?> ClaimAsync(string node, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var claimed = await db.Database.SqlQuery<long>($"""
            UPDATE exports SET state = 'Running', node = {node}, heartbeat_at = {now}, started_at = {now}, attempts = attempts + 1, rows_done = 0
            WHERE id = (SELECT id FROM exports WHERE state = 'Queued' OR (state = 'Running' AND heartbeat_at < {now - Lost})
                        ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING id AS "Value"
            """).ToListAsync(cancellationToken);
        return claimed.Count == 0 ? null : await db.Exports.AsNoTracking().SingleAsync(e => e.Id == claimed[0], cancellationToken);
    }

    /// <summary>One attempt at one export; false when it did not end here (the node is stopping, or another node took it over).</summary>
    private async Task<bool> RunAsync(Export export, CancellationToken stopping)
    {
        if (export.Attempts > MaxAttempts)
        {
            return await FailAsync(export, $"The export was started {MaxAttempts} times and no node could finish it (each stopped or restarted); run it again.");
        }

        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var run = new Run(export, cancel);
        var beating = BeatAsync(run, cancel.Token);
        try
        {
            await WriteAsync(run, cancel.Token);
            return true;
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // The node is stopping: the export goes back to the queue for the next node (or this one, restarted).
            await RequeueAsync(export);
            return false;
        }
        catch (OperationCanceledException) when (run.CancelledBy is { } by)
        {
            return await FailAsync(export, $"Cancelled by {by}.");
        }
        catch (OperationCanceledException) when (run.TakenOver)
        {
            LogTakenOver(logger, export.Id);
            return false;
        }
        catch (InvalidInputException invalid)
        {
            return await FailAsync(export, invalid.Message);
        }
        catch (Exception failure) when (failure is not OutOfMemoryException)
        {
            LogFailed(logger, export.Id, failure);
            return await FailAsync(export, "The export failed; the log on the server has the details.");
        }
        finally
        {
            await cancel.CancelAsync();
            await beating;
        }
    }

    private async Task WriteAsync(Run run, CancellationToken cancellationToken)
    {
        var export = run.Export;
        var filter = ComplianceExports.FilterOf(export.Filters);
        var table = reports.Table(export.Report, filter, export.AsOf);
        if (export.Report == ExportReports.Inventory && export.Format != ExportFormats.Pdf)
        {
            // An estimate for the percentage: live lines now (an as-of report has about as many).
            export.RowsExpected = await inventory.LiveLineCountAsync(filter, cancellationToken);
        }

        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            await db.Exports.Where(e => e.Id == export.Id && e.Attempts == export.Attempts)
                .ExecuteUpdateAsync(s => s.SetProperty(e => e.RowsExpected, export.RowsExpected), cancellationToken);
            // Whatever a lost attempt left is not part of this file.
            await db.ExportChunks.Where(c => c.ExportId == export.Id).ExecuteDeleteAsync(cancellationToken);
        }

        await using var chunks = new ExportChunkStream(dataSource, export.Id);
        byte[] digest;
        long size;
        await using (var hashing = new HashingStream(chunks))
        {
            var provenance = new ReportProvenance(export.Id, table.Title, export.Filters, export.AsOf, export.StartedAt, export.RequestedBy);
            export.RowCount = export.Format switch
            {
                ExportFormats.Xlsx => await XlsxReportWriter.WriteAsync(provenance, [table], hashing, run, cancellationToken),
                ExportFormats.Pdf => await PdfReportWriter.WriteAsync(await reports.PdfAsync(export.Report, provenance, table, filter, export.AsOf, run, cancellationToken),
                    hashing, null, cancellationToken),
                _ => await CsvReportWriter.WriteAsync(table, hashing, export.ByteOrderMark, run, cancellationToken),
            };
            (digest, size) = (hashing.Digest(), hashing.Written);
        }

        await chunks.CompleteAsync(cancellationToken);
        var signature = await signer.SignAsync(digest, cancellationToken);
        (export.Sha256, export.SizeBytes, export.SigningKeyId, export.Signature) = (digest, size, signature.KeyId, signature.Signature);
        (export.State, export.FinishedAt, export.RowsDone) = (ExportState.Done, time.GetUtcNow(), export.RowCount ?? 0);
        if (!await FinishAsync(export, cancellationToken))
        {
            // A cancel that came after the last heartbeat still wins over the finished file.
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var cancelledBy = await db.Exports.Where(e => e.Id == export.Id && e.Attempts == export.Attempts).Select(e => e.CancelledBy).SingleOrDefaultAsync(cancellationToken);
            run.Mark(takenOver: cancelledBy is null, cancelledBy);
            throw new OperationCanceledException("The export was cancelled or taken over before it was stored.");
        }
    }

    /// <summary>Every <see cref="Heartbeat"/> until the run ends: stores the rows written, and stops the run when someone cancels it or another node took it over.</summary>
    private async Task BeatAsync(Run run, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(Heartbeat, time, cancellationToken);
                try
                {
                    await using var command = dataSource.CreateCommand("""
                        UPDATE exports SET heartbeat_at = $3, rows_done = $4 WHERE id = $1 AND attempts = $2 AND state = 'Running' RETURNING cancelled_by
                        """);
                    command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = run.Export.Id });
                    command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = run.Export.Attempts });
                    command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = time.GetUtcNow() });
                    command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = run.Rows });
                    await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                    if (!await reader.ReadAsync(cancellationToken))
                    {
                        await run.Stop(takenOver: true, null);
                        return;
                    }

                    if (!reader.IsDBNull(0))
                    {
                        await run.Stop(takenOver: false, reader.GetString(0));
                        return;
                    }
                }
                catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
                {
                    // A missed beat is not fatal: the run is taken for lost only after many (Lost).
                    LogBeatFailed(logger, run.Export.Id, ex);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The run ended.
        }
    }

    /// <summary>Stores the outcome and its audit row in one transaction, if this attempt still owns the export; a failed export's chunks go with it.</summary>
    private async Task<bool> FinishAsync(Export export, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var stored = await db.Exports.Where(e => e.Id == export.Id && e.Attempts == export.Attempts && e.State == ExportState.Running
                && (export.State != ExportState.Done || e.CancelledBy == null))
            .ExecuteUpdateAsync(s => s
                .SetProperty(e => e.State, export.State)
                .SetProperty(e => e.FinishedAt, export.FinishedAt)
                .SetProperty(e => e.RowCount, export.RowCount)
                .SetProperty(e => e.RowsDone, export.RowsDone)
                .SetProperty(e => e.SizeBytes, export.SizeBytes)
                .SetProperty(e => e.Sha256, export.Sha256)
                .SetProperty(e => e.SigningKeyId, export.SigningKeyId)
                .SetProperty(e => e.Signature, export.Signature)
                .SetProperty(e => e.Error, export.Error), cancellationToken);
        if (stored == 0)
        {
            return false;
        }

        if (export.State == ExportState.Failed)
        {
            await db.ExportChunks.Where(c => c.ExportId == export.Id).ExecuteDeleteAsync(cancellationToken);
        }

        await schedules.NotifyAsync(db, export, cancellationToken);
        // The export is recorded as its requester's, wherever it was written.
        await trail.AppendAsync(db, Caller.Named(export.RequestedBy, export.RequestedById), [new AuditRecord(AuditActions.ExportCreated, export.FileName, After: new
        {
            export.Report,
            export.Format,
            export.Filters,
            export.AsOf,
            State = export.State.ToString(),
            export.RowCount,
            export.SizeBytes,
            Sha256 = export.Sha256 is null ? null : Convert.ToHexStringLower(export.Sha256),
            export.SigningKeyId,
            export.Error,
            export.Node,
            export.Attempts,
        })], cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    private async Task<bool> FailAsync(Export export, string error)
    {
        (export.State, export.FinishedAt, export.Error) = (ExportState.Failed, time.GetUtcNow(), error);
        (export.Sha256, export.Signature, export.SigningKeyId, export.SizeBytes, export.RowCount) = (null, null, null, null, null);
        return await FinishAsync(export, CancellationToken.None);
    }

    private async Task RequeueAsync(Export export)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        await db.Exports.Where(e => e.Id == export.Id && e.Attempts == export.Attempts && e.State == ExportState.Running)
            .ExecuteUpdateAsync(s => s.SetProperty(e => e.State, ExportState.Queued).SetProperty(e => e.Node, (string?)null).SetProperty(e => e.RowsDone, 0), CancellationToken.None);
        await db.ExportChunks.Where(c => c.ExportId == export.Id).ExecuteDeleteAsync(CancellationToken.None);
    }

    /// <summary>One attempt in flight: the rows the writer reported (read by the beat), and why it was stopped.</summary>
    private sealed class Run(Export export, CancellationTokenSource cancel) : IProgress<long>
    {
        private long _rows;

        public Export Export => export;

        public long Rows => Interlocked.Read(ref _rows);

        public string? CancelledBy { get; private set; }

        public bool TakenOver { get; private set; }

        public void Report(long value) => Interlocked.Exchange(ref _rows, value);

        public void Mark(bool takenOver, string? cancelledBy) => (TakenOver, CancelledBy) = (takenOver, cancelledBy);

        public async Task Stop(bool takenOver, string? cancelledBy)
        {
            Mark(takenOver, cancelledBy);
            await cancel.CancelAsync();
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Export {ExportId} failed")]
    private static partial void LogFailed(ILogger logger, long exportId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Export {ExportId} was taken over by another node (this node's run stopped beating); this run stops")]
    private static partial void LogTakenOver(ILogger logger, long exportId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Export {ExportId}: a heartbeat could not be stored")]
    private static partial void LogBeatFailed(ILogger logger, long exportId, Exception exception);
}
