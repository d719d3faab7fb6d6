using FleetLicense.Web.Features.Accounts;
using FleetLicense.Web.Infrastructure;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;

namespace FleetLicense.Web.Features.Exports;

public static class ExportsFeature
{
    /// <summary>The largest file the verify endpoint reads: well above a million-machine inventory.</summary>
    public const long MaxVerifiedBytes = 4L << 30;

    /// <summary>Compliance exports: the files auditors take away, each signed by the server so it can be verified offline.</summary>
    public static IServiceCollection AddExports(this IServiceCollection services) =>
        services.AddSingleton<ExportSigner>().AddSingleton<InventoryReport>().AddSingleton<ComplianceReports>().AddSingleton<ComplianceExports>();

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
                var export = await service.RunAsync(Caller.From(http), request, null, ct);
                return TypedResults.Created($"/api/v1/exports/{export.Id}", export);
            })
            .WithName("CreateExport")
            .WithSummary("Writes a report (inventory) as CSV, XLSX or PDF with the machine grid's filters (its query string), live or as of a past instant (rebuilt from history), signs its SHA-256 and records it; the file is at /api/v1/exports/{id}/file.")
            .ProducesValidationProblem();
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
        return app;
    }

    private static ProblemHttpResult NoSuchExport(long id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such export.", detail: $"There is no finished export {id}.");
}
