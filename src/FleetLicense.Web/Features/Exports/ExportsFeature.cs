using System.ComponentModel.DataAnnotations;
using FleetLicense.Web.Features.Accounts;
using FleetLicense.Web.Features.Scheduling;
using FleetLicense.Web.Infrastructure;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Quartz;

namespace FleetLicense.Web.Features.Exports;

public sealed class ExportsOptions
{
    public const string SectionName = "Exports";

    /// <summary>How long a finished export's file is kept; then it is deleted, and its record, digest and signature stay (so a kept copy still verifies).</summary>
    [Range(1, 36_500)]
    public int RetentionDays { get; set; } = 90;

    /// <summary>How often a node looks for queued exports and for runs whose node died (a new export is also started at once).</summary>
    [Range(5, 3600)]
    public int QueueSweepSeconds { get; set; } = 30;

    /// <summary>How many exports are written at once (by the one node running <see cref="ExportJob"/>); more wait in the queue.</summary>
    [Range(1, 8)]
    public int ParallelPerNode { get; set; } = 2;
}

public static class ExportsFeature
{
    /// <summary>The largest file the verify endpoint reads: well above a million-machine inventory.</summary>
    public const long MaxVerifiedBytes = 4L << 30;

    /// <summary>Compliance exports: the files auditors take away, each signed by the server so it can be verified offline.</summary>
    public static IServiceCollection AddExports(this IServiceCollection services)
    {
        services.AddOptions<ExportsOptions>().BindConfiguration(ExportsOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        return services.AddSingleton<ExportSigner>().AddSingleton<InventoryReport>().AddSingleton<ComplianceReports>().AddSingleton<ComplianceExports>()
            .AddSingleton<ExportRunner>().AddSingleton<ExportSchedules>().AddSingleton<IScheduledJobSetup, ExportJobs>();
    }

    /// <summary>Running, listing, downloading and verifying exports, and the keys they are signed with: Auditors, Operators and Admins.</summary>
    public static IEndpointRouteBuilder MapExportEndpoints(this IEndpointRouteBuilder app)
    {
        var exports = app.MapGroup("/api/v1/exports").WithTags("Exports").RequireAuthorization(FleetPolicies.ReadRaw)
            .AddEndpointFilter<AdminInputFilter>()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        exports.MapGet("", async (ComplianceExports service, HttpContext http, int? take, CancellationToken ct) =>
                TypedResults.Ok(await service.ListAsync(Caller.From(http), take ?? 100, ct)))
            .WithName("ListExports")
            .WithSummary("Exports, newest first (take: 1-500, default 100): who asked for which report and filters, and the file's rows, size and SHA-256.");
        exports.MapPost("", async (ExportRequest request, ComplianceExports service, HttpContext http, CancellationToken ct) =>
            {
                var export = await service.QueueAsync(Caller.From(http), request, ct);
                return TypedResults.Accepted($"/api/v1/exports/{export.Id}", export);
            })
            .WithName("CreateExport")
            .WithSummary("Queues a report as CSV, XLSX or PDF with the machine grid's filters (its query string), live or as of a past instant (rebuilt from history). A node of the cluster writes it in the background: poll /api/v1/exports/{id} (state, rowsDone of rowsExpected) until it is Done, then the file is at /api/v1/exports/{id}/file.")
            .ProducesValidationProblem();
        exports.MapPost("/{id:long}/cancel", async Task<Results<Ok<ExportSummary>, ProblemHttpResult>> (long id, ComplianceExports service, HttpContext http, CancellationToken ct) =>
                await service.CancelAsync(Caller.From(http), id, ct) switch
                {
                    null => NoSuchExport(id),
                    (var export, true) => TypedResults.Ok(export),
                    (var export, false) => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The export cannot be cancelled.",
                        detail: export.CancelledBy is { } by ? $"{by} has already cancelled export {id}." : $"Export {id} is {export.State}; only a queued or running export can be cancelled."),
                })
            .WithName("CancelExport")
            .WithSummary("Cancels a queued or running export (who cancelled is recorded): a queued one fails at once, a running one stops within seconds; nothing of its file is kept.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        exports.MapGet("/{id:long}", async Task<Results<Ok<ExportSummary>, ProblemHttpResult>> (long id, ComplianceExports service, HttpContext http, CancellationToken ct) =>
                await service.FindAsync(Caller.From(http), id, ct) is { } export ? TypedResults.Ok(export) : NoSuchExport(id))
            .WithName("GetExport")
            .WithSummary("One export.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        exports.MapGet("/{id:long}/file", async Task<IResult> (long id, ComplianceExports service, HttpContext http, CancellationToken ct) =>
            {
                if (await service.DownloadAsync(Caller.From(http), id, ct) is not { } download)
                {
                    return NoSuchExport(id);
                }

                // RFC 9530: the client can check what it received against the digest the server signed.
                http.Response.Headers["Repr-Digest"] = $"sha-256=:{Convert.ToBase64String(Convert.FromHexString(download.Export.Sha256!))}:";
                return Results.Stream(output => download.WriteTo(output, ct), ExportFormats.ContentType(download.Export.Format), download.Export.FileName);
            })
            .WithName("DownloadExport")
            .WithSummary("The export's file, byte for byte as it was digested and signed (only once it is done); the download is an audit event.")
            .Produces(StatusCodes.Status200OK, null, "text/csv", ExportFormats.ContentType(ExportFormats.Xlsx), ExportFormats.ContentType(ExportFormats.Pdf))
            .ProducesProblem(StatusCodes.Status404NotFound);
        exports.MapGet("/{id:long}/signature", async Task<Results<FileContentHttpResult, ProblemHttpResult>> (long id, ComplianceExports service, HttpContext http, CancellationToken ct) =>
                await service.SignatureAsync(Caller.From(http), id, ct) is { } signed
                    ? TypedResults.File(signed.Signature, "application/octet-stream", signed.Export.FileName + ".sig")
                    : NoSuchExport(id))
            .WithName("DownloadExportSignature")
            .WithSummary("The server's ECDSA P-256 signature of the file (DER), for: openssl dgst -sha256 -verify key.pem -signature FILE.sig FILE")
            .Produces(StatusCodes.Status200OK, contentType: "application/octet-stream")
            .ProducesProblem(StatusCodes.Status404NotFound);
        exports.MapPost("/verify", async (HttpRequest request, ComplianceExports service, CancellationToken ct) =>
            {
                if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
                {
                    size.MaxRequestBodySize = MaxVerifiedBytes;
                }

                return TypedResults.Ok(await service.VerifyAsync(Caller.From(request.HttpContext), request.Body, ct));
            })
            .WithName("VerifyExport")
            // No Accepts metadata: routing would answer a wrong content type with 415 before authorization refuses a stranger.
            .WithSummary("Send a file as the body (any content type): whether it is, byte for byte, an export of this server, and whose; the check is an audit event.");
        exports.MapGet("/signing-keys", async (ExportSigner signer, CancellationToken ct) => TypedResults.Ok(await signer.PublicKeysAsync(ct)))
            .WithName("ListExportSigningKeys")
            .WithSummary("The public keys export files are signed with (ECDSA P-256, PEM), newest first; a retired key still verifies what it signed.");
        exports.MapGet("/signing-keys/{id:int}/pem", async Task<Results<ContentHttpResult, NotFound>> (int id, ExportSigner signer, CancellationToken ct) =>
                (await signer.PublicKeysAsync(ct)).FirstOrDefault(k => k.Id == id) is { } key
                    ? TypedResults.Content(key.Pem, "application/x-pem-file")
                    : TypedResults.NotFound())
            .Produces<string>(StatusCodes.Status200OK, "application/x-pem-file")
            .WithName("GetExportSigningKeyPem")
            .WithSummary("One public key as a PEM file, for: openssl dgst -sha256 -verify key.pem -signature FILE.sig FILE");

        var schedules = app.MapGroup("/api/v1/export-schedules").WithTags("Exports").RequireAuthorization(FleetPolicies.ReadRaw)
            .AddEndpointFilter<AdminInputFilter>()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        schedules.MapGet("", async (ExportSchedules service, HttpContext http, CancellationToken ct) => TypedResults.Ok(await service.ListAsync(Caller.From(http), ct)))
            .WithName("ListExportSchedules")
            .WithSummary("Scheduled exports: name, cron (Quartz, UTC), report, format, filters, recipients, owner, next and last run.");
        schedules.MapPost("", async (ExportScheduleRequest request, ExportSchedules service, HttpContext http, CancellationToken ct) =>
            {
                var schedule = await service.CreateAsync(Caller.From(http), request, ct);
                return TypedResults.Created($"/api/v1/export-schedules/{schedule.Id}", schedule);
            })
            .WithName("CreateExportSchedule")
            .WithSummary("Schedules a report: at each time of its Quartz cron expression (UTC) it is queued as your export, kept for download, and the recipients are emailed a link and its SHA-256.")
            .ProducesValidationProblem();
        schedules.MapDelete("/{id:long}", async Task<Results<NoContent, ProblemHttpResult>> (long id, ExportSchedules service, HttpContext http, CancellationToken ct) =>
                await service.DeleteAsync(Caller.From(http), id, ct)
                    ? TypedResults.NoContent()
                    : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such schedule.", detail: $"There is no scheduled export {id}."))
            .WithName("DeleteExportSchedule")
            .WithSummary("Removes a scheduled export; the exports it made stay.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    private static ProblemHttpResult NoSuchExport(long id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such export.", detail: $"There is no export {id} with a file (it may still be running, have failed, or have expired).");
}

internal sealed class ExportJobs(IOptions<ExportsOptions> options) : IScheduledJobSetup
{
    public async Task ScheduleAsync(IScheduler scheduler, CancellationToken cancellationToken)
    {
        await RecurringJobs.EveryAsync<ExportJob>(scheduler, ExportJob.Key, TimeSpan.FromSeconds(options.Value.QueueSweepSeconds), cancellationToken);
        await RecurringJobs.EveryAsync<ExportRetentionJob>(scheduler, ExportRetentionJob.Key, TimeSpan.FromHours(1), cancellationToken);
        await RecurringJobs.EveryAsync<ScheduledExportsJob>(scheduler, ScheduledExportsJob.Key, TimeSpan.FromMinutes(1), cancellationToken);
    }
}

/// <summary>
/// Writes queued exports (<see cref="ExportRunner"/>): fired when one is queued and every sweep, on one node at a
/// time; that run writes up to <see cref="ExportsOptions.ParallelPerNode"/> exports side by side until the queue is empty.
/// </summary>
[DisallowConcurrentExecution]
public sealed class ExportJob(ExportRunner runner, JobRunServices services, ISchedulerFactory schedulers) : FleetJob(services)
{
    public static readonly JobKey Key = new("exports", "exports");

    protected override LogLevel SucceededLevel => LogLevel.Debug;

    protected override async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        var node = (await schedulers.GetScheduler(cancellationToken)).SchedulerInstanceId;
        return $"{await runner.RunQueuedAsync(node, cancellationToken)} export(s) finished";
    }
}

/// <summary>Deletes the files of exports older than the retention period (<see cref="ExportsOptions.RetentionDays"/>), every hour on one node.</summary>
[DisallowConcurrentExecution]
public sealed class ExportRetentionJob(ComplianceExports exports, JobRunServices services) : FleetJob(services)
{
    public static readonly JobKey Key = new("export-retention", "exports");

    protected override async Task<string> RunAsync(CancellationToken cancellationToken) =>
        $"{await exports.ExpireAsync(cancellationToken)} export file(s) deleted after the retention period";
}
