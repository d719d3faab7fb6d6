using FleetLicense.Web.Features.Accounts;
using FleetLicense.Web.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;

namespace FleetLicense.Web.Features.Audit;

public static class AuditEndpoints
{
    /// <summary>The trail for Auditors and Admins: browse, download as CSV, verify the chain.</summary>
    public static IEndpointRouteBuilder MapAuditEndpoints(this IEndpointRouteBuilder app)
    {
        var audit = app.MapGroup("/api/v1/audit").WithTags("Audit").RequireAuthorization(FleetPolicies.Audit)
            .AddEndpointFilter<AdminInputFilter>()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        audit.MapGet("/events", async Task<Results<Ok<AuditEventPage>, ValidationProblem>> (AuditLog log, string? actor, string? action, DateTimeOffset? from, DateTimeOffset? to, int? skip, int? take, CancellationToken ct) =>
                Invalid(from, to) is { } problem ? problem : TypedResults.Ok(await log.QueryAsync(new AuditQuery(actor, action, from, to, skip ?? 0, take ?? 50), ct)))
            .WithName("QueryAuditEvents")
            .WithSummary("Audit events, newest first; filter by actor (exact), action ('flag' or 'flag.waive'), and a [from, to) time range.");
        audit.MapGet("/events.csv", DownloadCsvAsync)
            .WithName("DownloadAuditEvents")
            .WithSummary("The filtered events, oldest first, as CSV (RFC 4180, UTF-8); the download is itself an audit event.")
            .Produces(StatusCodes.Status200OK, contentType: "text/csv")
            .ProducesValidationProblem();
        audit.MapGet("/verify", async (AuditLog log, CancellationToken ct) => TypedResults.Ok(await log.VerifyAsync(ct)))
            .WithName("VerifyAuditTrail")
            .WithSummary("Recompute every row's hash and link: intact, or the first row that was altered or removed.");
        return app;
    }

    private static async Task<IResult> DownloadCsvAsync(HttpContext http, AuditLog log, AuditTrail trail, TimeProvider time,
        string? actor, string? action, DateTimeOffset? from, DateTimeOffset? to, CancellationToken ct)
    {
        if (Invalid(from, to) is { } problem)
        {
            return problem;
        }

        var query = new AuditQuery(actor, action, from, to);
        // Recorded before the file is written: a download that fails half-way was still attempted by this user.
        await trail.RecordAsync(Caller.From(http), new AuditRecord(AuditActions.AuditExported, After: query), ct);
        var name = $"fleetlicense-audit-{time.GetUtcNow():yyyyMMdd'T'HHmmss'Z'}.csv";
        return Results.Stream(stream => log.WriteCsvAsync(query, stream, ct), "text/csv; charset=utf-8", name);
    }

    private static ValidationProblem? Invalid(DateTimeOffset? from, DateTimeOffset? to) =>
        from is { } f && to is { } t && t <= f
            ? TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["to"] = ["'to' must be after 'from'."] }, title: "The audit query is not valid.")
            : null;
}
