using FleetLicense.Web.Infrastructure;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http.HttpResults;

namespace FleetLicense.Web.Features.Platform;

public static class SystemEndpoints
{
    public static IEndpointRouteBuilder MapPlatformEndpoints(this IEndpointRouteBuilder app)
    {
        // Liveness runs no checks: a process that answers is alive even while PostgreSQL is down.
        // Load balancers and orchestrators ask without signing in.
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready") }).AllowAnonymous();

        var api = app.MapGroup("/api/v1/system").WithTags("System").SignInOutsideDevelopment(app);
        api.MapGet("/", GetStatusAsync)
            .WithName("GetSystemStatus")
            .WithSummary("Version, database status and the app nodes of the cluster.");
        return app;
    }

    private static async Task<Ok<SystemStatus>> GetStatusAsync(SystemStatusService status, CancellationToken cancellationToken)
        => TypedResults.Ok(await status.GetAsync(cancellationToken));
}
