using System.Security.Cryptography;
using FleetLicense.Web.Data;
using FleetLicense.Web.Features.Accounts;
using FleetLicense.Web.Features.Audit;
using FleetLicense.Web.Features.Machines;
using FleetLicense.Web.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using Quartz;

namespace FleetLicense.Web.Features.Exports;

/// <summary>The file formats an export is written in.</summary>
public static class ExportFormats
{
    /// <summary>RFC 4180, UTF-8, CRLF, a header line (<see cref="CsvReportWriter"/>).</summary>
    public const string Csv = "csv";

    /// <summary>An Excel workbook: a cover sheet and typed cells (<see cref="XlsxReportWriter"/>).</summary>
    public const string Xlsx = "xlsx";

    /// <summary>A summary page and paged tables (<see cref="PdfReportWriter"/>).</summary>
    public const string Pdf = "pdf";

    public static readonly IReadOnlyList<string> All = [Csv, Xlsx, Pdf];

    public static string ContentType(string format) => format switch
    {
        Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Pdf => "application/pdf",
        _ => "text/csv; charset=utf-8",
    };
}

/// <param name="Report">A name of <see cref="ExportReports"/>.</param>
/// <param name="Format">A name of <see cref="ExportFormats"/>.</param>
/// <param name="Filters">The machine grid's query string ("status=0,5&amp;channel=KMS", with or without "?"); empty: the whole fleet.</param>
/// <param name="ByteOrderMark">Start a CSV file with the UTF-8 byte order mark, so Excel reads it as UTF-8.</param>
/// <param name="AsOf">Rebuild the report from history as it stood at this instant; null: the live state.</param>
public sealed record ExportRequest(string Report = ExportReports.Inventory, string Format = ExportFormats.Csv, string? Filters = null, bool ByteOrderMark = false,
    DateTimeOffset? AsOf = null);

/// <summary>
/// An export as the Exports page and the API list it: while it runs, <see cref="RowsDone"/> of
/// <see cref="RowsExpected"/> (an estimate, null when not counted) on <see cref="Node"/>; <see cref="Sha256"/> in
/// lowercase hex.
/// </summary>
public sealed record ExportSummary(long Id, string Report, string Format, string Filters, DateTimeOffset? AsOf, string RequestedBy, DateTimeOffset RequestedAt, DateTimeOffset StartedAt,
    DateTimeOffset? FinishedAt, ExportState State, string? Node, long RowsDone, long? RowsExpected, long? RowCount, long? SizeBytes, string? Sha256, int? SigningKeyId, string? Error,
    string? CancelledBy, string FileName)
{
    /// <summary>How far it has got, 0–100; null while there is nothing to measure against.</summary>
    public double? Percent => State switch
    {
        ExportState.Done or ExportState.Expired => 100,
        ExportState.Running when RowsExpected is > 0 => Math.Min(99, 100.0 * RowsDone / RowsExpected.Value),
        _ => null,
    };
}

/// <summary>
/// What a verification found: whether the file is, byte for byte, one this server exported (<see cref="Export"/>),
/// and whether the signature stored with that export still verifies with the server's key.
/// </summary>
public sealed record ExportVerification(bool Matches, string Sha256, string Message, ExportSummary? Export);

/// <summary>
/// Queues, cancels, lists, serves, verifies and expires exports (<see cref="ExportRunner"/> writes them). Every command takes the <see cref="Caller"/> and checks
/// <see cref="FleetPolicies.ReadRaw"/> (Auditors, Operators, Admins: a Viewer exports nothing), and every export,
/// download and verification is in the audit trail.
/// </summary>
public sealed class ComplianceExports(
    IDbContextFactory<FleetLicenseDbContext> dbFactory,
    NpgsqlDataSource dataSource,
    ComplianceReports reports,
    ExportSigner signer,
    AuditTrail trail,
    Permissions permissions,
    ISchedulerFactory schedulers,
    IOptions<ExportsOptions> options,
    TimeProvider time)
{
    /// <summary>
    /// Checks the request (permission, format, report, filters, as-of) and queues it: a node of the cluster writes it
    /// in the background (<see cref="ExportRunner"/>), starting at once.
    /// </summary>
    public async Task<ExportSummary> QueueAsync(Caller caller, ExportRequest request, CancellationToken cancellationToken)
    {
        await permissions.RequireAsync(caller, FleetPolicies.ReadRaw, "export reports");
        var now = time.GetUtcNow();
        var filter = Check(request.Report, request.Format, request.Filters, request.AsOf, now);
        var export = new Export
        {
            Report = request.Report,
            Format = request.Format,
            Filters = filter.Selection.ToQuery(),
            AsOf = request.AsOf?.ToUniversalTime(),
            ByteOrderMark = request.ByteOrderMark && request.Format == ExportFormats.Csv,
            RequestedBy = caller.Name,
            RequestedById = caller.UserId,
            RequestedAt = now,
            StartedAt = now,
            State = ExportState.Queued,
        };
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            db.Add(export);
            await db.SaveChangesAsync(cancellationToken);
        }

        // The sweep would find it too (ExportsOptions.QueueSweepSeconds); firing now starts it at once.
        await (await schedulers.GetScheduler(cancellationToken)).TriggerJob(ExportJob.Key, cancellationToken);
        return Summary(export);
    }

    /// <summary>
    /// Cancels a queued or running export (anyone who may export may stop one, say a runaway, and the trail and the
    /// export say who did): a queued one fails at once; a running one
    /// stops at its node's next heartbeat. Null when there is no such export; <c>Cancelled</c> false when it had
    /// already finished (or been cancelled).
    /// </summary>
    public async Task<(ExportSummary Export, bool Cancelled)?> CancelAsync(Caller caller, long id, CancellationToken cancellationToken)
    {
        await permissions.RequireAsync(caller, FleetPolicies.ReadRaw, "cancel exports");
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (await db.Exports.AsNoTracking().SingleOrDefaultAsync(e => e.Id == id, cancellationToken) is not { } export)
        {
            return null;
        }

        var now = time.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var cancelled = await db.Exports.Where(e => e.Id == id && e.CancelledBy == null && (e.State == ExportState.Queued || e.State == ExportState.Running))
            .ExecuteUpdateAsync(s => s
                .SetProperty(e => e.CancelledBy, caller.Name)
                .SetProperty(e => e.FinishedAt, e => e.State == ExportState.Queued ? now : e.FinishedAt)
                .SetProperty(e => e.Error, e => e.State == ExportState.Queued ? $"Cancelled by {caller.Name} before it started." : e.Error)
                .SetProperty(e => e.State, e => e.State == ExportState.Queued ? ExportState.Failed : e.State), cancellationToken);
        if (cancelled > 0)
        {
            await trail.AppendAsync(db, caller, [new AuditRecord(AuditActions.ExportCancelled, export.FileName, Before: new { State = export.State.ToString() })], cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return (Summary(await db.Exports.AsNoTracking().SingleAsync(e => e.Id == id, cancellationToken)), cancelled > 0);
    }

    /// <summary>Deletes the files of exports finished more than <see cref="ExportsOptions.RetentionDays"/> ago, marking them <see cref="ExportState.Expired"/>.</summary>
    public async Task<int> ExpireAsync(CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow() - TimeSpan.FromDays(options.Value.RetentionDays);
        var expired = 0;
        while (true)
        {
            // A few at a time: each holds up to a file's worth of chunks.
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var files = await db.Exports.Where(e => e.State == ExportState.Done && e.FinishedAt < cutoff).OrderBy(e => e.Id).Select(e => new { e.Id, e.Report, e.Format })
                .Take(10).ToListAsync(cancellationToken);
            if (files.Count == 0)
            {
                return expired;
            }

            var ids = files.Select(f => f.Id).ToList();
            await db.ExportChunks.Where(c => ids.Contains(c.ExportId)).ExecuteDeleteAsync(cancellationToken);
            await db.Exports.Where(e => ids.Contains(e.Id)).ExecuteUpdateAsync(s => s.SetProperty(e => e.State, ExportState.Expired), cancellationToken);
            await trail.AppendAsync(db, Caller.System, [.. files.Select(f => new AuditRecord(AuditActions.ExportExpired, Export.FileNameOf(f.Report, f.Id, f.Format), After: new { options.Value.RetentionDays }))], cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            expired += ids.Count;
        }
    }

    public async Task<IReadOnlyList<ExportSummary>> ListAsync(Caller caller, int take, CancellationToken cancellationToken)
    {
        await permissions.RequireAsync(caller, FleetPolicies.ReadRaw, "see exports");
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var exports = await db.Exports.AsNoTracking().OrderByDescending(e => e.Id).Take(Math.Clamp(take, 1, 500)).ToListAsync(cancellationToken);
        return [.. exports.Select(Summary)];
    }

    public async Task<ExportSummary?> FindAsync(Caller caller, long id, CancellationToken cancellationToken)
    {
        await permissions.RequireAsync(caller, FleetPolicies.ReadRaw, "see exports");
        return await FindAsync(id, cancellationToken) is { } export ? Summary(export) : null;
    }

    /// <summary>The export's signature (DER), for <c>openssl dgst -sha256 -verify key.pem -signature FILE.sig FILE</c>; null unless it is done.</summary>
    public async Task<(ExportSummary Export, byte[] Signature)?> SignatureAsync(Caller caller, long id, CancellationToken cancellationToken)
    {
        await permissions.RequireAsync(caller, FleetPolicies.ReadRaw, "download exports");
        return await FindAsync(id, cancellationToken) is { State: ExportState.Done, Signature: { } signature } export ? (Summary(export), signature) : null;
    }

    /// <summary>
    /// Records the download and returns what writes the file; null unless the export is done. The bytes are the ones
    /// digested and signed when it was made.
    /// </summary>
    public async Task<(ExportSummary Export, Func<Stream, CancellationToken, Task> WriteTo)?> DownloadAsync(Caller caller, long id, CancellationToken cancellationToken)
    {
        await permissions.RequireAsync(caller, FleetPolicies.ReadRaw, "download exports");
        if (await FindAsync(id, cancellationToken) is not { State: ExportState.Done } export)
        {
            return null;
        }

        await trail.RecordAsync(caller, new AuditRecord(AuditActions.ExportDownloaded, export.FileName), cancellationToken);
        return (Summary(export), (output, ct) => CopyChunksAsync(export.Id, output, ct));
    }

    /// <summary>Whether <paramref name="file"/> is, byte for byte, an export of this server, and whether that export's signature still verifies.</summary>
    public async Task<ExportVerification> VerifyAsync(Caller caller, Stream file, CancellationToken cancellationToken)
    {
        await permissions.RequireAsync(caller, FleetPolicies.ReadRaw, "verify exports");
        var digest = await SHA256.HashDataAsync(file, cancellationToken);
        var hex = Convert.ToHexStringLower(digest);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var export = await db.Exports.AsNoTracking().Where(e => e.Sha256 == digest && (e.State == ExportState.Done || e.State == ExportState.Expired)).OrderBy(e => e.Id).FirstOrDefaultAsync(cancellationToken);
        var result = export is null
            ? new ExportVerification(false, hex, $"No export of this server has this content (SHA-256 {hex}): the file was changed after it was exported, or another server made it.", null)
            : await signer.VerifyAsync(export.SigningKeyId!.Value, digest, export.Signature!, cancellationToken)
                ? new ExportVerification(true, hex, $"This is export {export.Id} ({ExportReports.Title(export.Report)}, {export.Format.ToUpperInvariant()}, {Rows(export.RowCount)}) made by {export.RequestedBy} at {export.FinishedAt:u}, unchanged; signed with key {export.SigningKeyId}.", Summary(export))
                : new ExportVerification(false, hex, $"The content is that of export {export.Id}, but its stored signature does not verify with key {export.SigningKeyId}: the export's record was altered.", Summary(export));
        await trail.RecordAsync(caller, new AuditRecord(AuditActions.ExportVerified, export?.FileName, After: new { result.Matches, Sha256 = hex }), cancellationToken);
        return result;
    }

    /// <summary>
    /// The filter of a report asked for in <paramref name="format"/>, or the field it cannot be made with: an unknown
    /// format or report, an as-of not in the past, filters the report cannot answer (as of a past instant). Checked
    /// when it is asked for, rather than when a node writes it in the background.
    /// </summary>
    internal MachineFilter Check(string report, string format, string? filters, DateTimeOffset? asOf, DateTimeOffset now)
    {
        if (!ExportFormats.All.Contains(format))
        {
            throw new InvalidInputException("format", $"Choose one of the formats: {string.Join(", ", ExportFormats.All)}.");
        }

        if (asOf is { } at && (at > now || at.Year < 2000))
        {
            throw new InvalidInputException("asOf", $"An instant in the past, after 2000 ({at:u} is not); leave it out for the live state.");
        }

        var filter = FilterOf(filters);
        _ = reports.Table(report, filter, asOf);
        return filter;
    }

    /// <summary>A grid query string as a filter; what the grid ignores (unknown keys, bad values) the export ignores too.</summary>
    internal static MachineFilter FilterOf(string? filters)
    {
        var query = (filters ?? "").Trim();
        if (query.Length > 2048)
        {
            throw new InvalidInputException("filters", "At most 2048 characters of the grid's query string.");
        }

        InputGuard.Require(("filters", query));
        return MachineFilter.FromQuery("http://fleetlicense/machines" + (query.StartsWith('?') || query.Length == 0 ? query : "?" + query));
    }

    private async Task<Export?> FindAsync(long id, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Exports.AsNoTracking().SingleOrDefaultAsync(e => e.Id == id, cancellationToken);
    }

    private async Task CopyChunksAsync(long exportId, Stream output, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT data FROM export_chunks WHERE export_id = $1 ORDER BY seq");
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = exportId });
        await using var reader = await command.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            await using var chunk = await reader.GetStreamAsync(0, cancellationToken);
            await chunk.CopyToAsync(output, cancellationToken);
        }
    }

    /// <summary>"1 row", "1,204 rows".</summary>
    public static string Rows(long? count) => count == 1 ? "1 row" : $"{count:N0} rows";

    private static ExportSummary Summary(Export e) => new(e.Id, e.Report, e.Format, e.Filters, e.AsOf, e.RequestedBy, e.RequestedAt, e.StartedAt, e.FinishedAt, e.State, e.Node,
        e.RowsDone, e.RowsExpected, e.RowCount, e.SizeBytes, e.Sha256 is null ? null : Convert.ToHexStringLower(e.Sha256), e.SigningKeyId, e.Error, e.CancelledBy, e.FileName);
}
