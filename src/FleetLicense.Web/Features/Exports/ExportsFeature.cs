using FleetLicense.Web.Features.Accounts;
using FleetLicense.Web.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;

namespace FleetLicense.Web.Features.Exports;

public static class ExportsFeature
{
    /// <summary>Compliance exports: the files auditors take away, each signed by the server so it can be verified offline.</summary>
    public static IServiceCollection AddExports(this IServiceCollection services) => services.AddSingleton<ExportSigner>().AddSingleton<InventoryReport>();

    /// <summary>The keys export files are signed with, for Auditors (and every role that may export) to verify files offline.</summary>
    public static IEndpointRouteBuilder MapExportEndpoints(this IEndpointRouteBuilder app)
    {
        var exports = app.MapGroup("/api/v1/exports").WithTags("Exports").RequireAuthorization(FleetPolicies.ReadRaw)
            .AddEndpointFilter<AdminInputFilter>()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
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
}
