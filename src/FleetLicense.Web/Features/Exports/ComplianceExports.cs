using System.Security.Cryptography;
using FleetLicense.Web.Data;
using FleetLicense.Web.Features.Accounts;
using FleetLicense.Web.Features.Audit;
using FleetLicense.Web.Features.Machines;
using FleetLicense.Web.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;

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

/// <summary>An export as the Exports page and the API list it; <see cref="Sha256"/> in lowercase hex.</summary>
public sealed record ExportSummary(long Id, string Report, string Format, string Filters, DateTimeOffset? AsOf, string RequestedBy, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt,
    ExportState State, long? RowCount, long? SizeBytes, string? Sha256, int? SigningKeyId, string? Error, string FileName);

/// <summary>
/// What a verification found: whether the file is, byte for byte, one this server exported (<see cref="Export"/>),
/// and whether the signature stored with that export still verifies with the server's key.
/// </summary>
public sealed record ExportVerification(bool Matches, string Sha256, string Message, ExportSummary? Export);

/// <summary>
/// Runs, lists, serves and verifies exports. Every command takes the <see cref="Caller"/> and checks
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
    TimeProvider time)
{
    /// <summary>
    /// Writes the report into the database, digests and signs it, and records it with its audit row. A failure or
    /// cancellation leaves a <see cref="ExportState.Failed"/> export without a file, never half of one.
    /// </summary>
    public async Task<ExportSummary> RunAsync(Caller caller, ExportRequest request, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        await permissions.RequireAsync(caller, FleetPolicies.ReadRaw, "export reports");
        if (!ExportFormats.All.Contains(request.Format))
        {
            throw new InvalidInputException("format", $"Choose one of the formats: {string.Join(", ", ExportFormats.All)}.");
        }

        var now = time.GetUtcNow();
        if (request.AsOf is { } asOf && (asOf > now || asOf.Year < 2000))
        {
            throw new InvalidInputException("asOf", $"An instant in the past, after 2000 ({asOf:u} is not); leave it out for the live state.");
        }

        var filter = FilterOf(request.Filters);
        var table = reports.Table(request.Report, filter, request.AsOf);
        var export = new Export
        {
            Report = request.Report,
            Format = request.Format,
            Filters = filter.Selection.ToQuery(),
            AsOf = request.AsOf?.ToUniversalTime(),
            RequestedBy = caller.Name,
            RequestedById = caller.UserId,
            StartedAt = now,
            State = ExportState.Running,
        };
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            db.Add(export);
            await db.SaveChangesAsync(cancellationToken);
        }

        try
        {
            await using var chunks = new ExportChunkStream(dataSource, export.Id);
            byte[] digest;
            long size;
            await using (var hashing = new HashingStream(chunks))
            {
                var provenance = new ReportProvenance(export.Id, table.Title, export.Filters, export.AsOf, export.StartedAt, caller.Name);
                export.RowCount = request.Format switch
                {
                    ExportFormats.Xlsx => await XlsxReportWriter.WriteAsync(provenance, [table], hashing, progress, cancellationToken),
                    ExportFormats.Pdf => await PdfReportWriter.WriteAsync(
                        request.Report == ExportReports.Inventory && request.AsOf is null
                            ? await reports.LiveInventoryPdfAsync(provenance, filter, progress, cancellationToken)
                            : await PdfSummary.ReportAsync(request.Report, provenance, table, reports.Table(ExportReports.SuspiciousKeys, filter, request.AsOf), progress, cancellationToken),
                        hashing, null, cancellationToken),
                    _ => await CsvReportWriter.WriteAsync(table, hashing, request.ByteOrderMark, progress, cancellationToken),
                };
                (digest, size) = (hashing.Digest(), hashing.Written);
            }

            await chunks.CompleteAsync(cancellationToken);
            var signature = await signer.SignAsync(digest, cancellationToken);
            (export.Sha256, export.SizeBytes, export.SigningKeyId, export.Signature) = (digest, size, signature.KeyId, signature.Signature);
            (export.State, export.FinishedAt) = (ExportState.Done, time.GetUtcNow());
            await FinishAsync(export, caller, cancellationToken);
            return Summary(export);
        }
        catch (Exception failure)
        {
            // Recorded whatever stopped it (a cancel too): the person who asked sees why, and the chunks go.
            (export.State, export.FinishedAt) = (ExportState.Failed, time.GetUtcNow());
            export.Error = failure is OperationCanceledException ? "Cancelled." : "The export failed; the log on the server has the details.";
            (export.Sha256, export.Signature, export.SigningKeyId) = (null, null, null);
            await FinishAsync(export, caller, CancellationToken.None);
            throw;
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
        var export = await db.Exports.AsNoTracking().Where(e => e.Sha256 == digest && e.State == ExportState.Done).OrderBy(e => e.Id).FirstOrDefaultAsync(cancellationToken);
        var result = export is null
            ? new ExportVerification(false, hex, $"No export of this server has this content (SHA-256 {hex}): the file was changed after it was exported, or another server made it.", null)
            : await signer.VerifyAsync(export.SigningKeyId!.Value, digest, export.Signature!, cancellationToken)
                ? new ExportVerification(true, hex, $"This is export {export.Id} ({ExportReports.Title(export.Report)}, {export.Format.ToUpperInvariant()}, {Rows(export.RowCount)}) made by {export.RequestedBy} at {export.FinishedAt:u}, unchanged; signed with key {export.SigningKeyId}.", Summary(export))
                : new ExportVerification(false, hex, $"The content is that of export {export.Id}, but its stored signature does not verify with key {export.SigningKeyId}: the export's record was altered.", Summary(export));
        await trail.RecordAsync(caller, new AuditRecord(AuditActions.ExportVerified, export?.FileName, After: new { result.Matches, Sha256 = hex }), cancellationToken);
        return result;
    }

    /// <summary>A grid query string as a filter; what the grid ignores (unknown keys, bad values) the export ignores too.</summary>
    private static MachineFilter FilterOf(string? filters)
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

    /// <summary>Stores the export's outcome and its audit row in one transaction; a failed export's chunks go with it.</summary>
    private async Task FinishAsync(Export export, Caller caller, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        db.Update(export);
        await db.SaveChangesAsync(cancellationToken);
        if (export.State == ExportState.Failed)
        {
            await db.ExportChunks.Where(c => c.ExportId == export.Id).ExecuteDeleteAsync(cancellationToken);
        }

        await trail.AppendAsync(db, caller, [new AuditRecord(AuditActions.ExportCreated, export.FileName, After: new
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
        })], cancellationToken);
        await transaction.CommitAsync(cancellationToken);
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

    private static ExportSummary Summary(Export e) => new(e.Id, e.Report, e.Format, e.Filters, e.AsOf, e.RequestedBy, e.StartedAt, e.FinishedAt, e.State, e.RowCount, e.SizeBytes,
        e.Sha256 is null ? null : Convert.ToHexStringLower(e.Sha256), e.SigningKeyId, e.Error, e.FileName);
}
