using FleetLicense.Web.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;

namespace FleetLicense.Web.Features.Accounts;

public static class ApiTokenEndpoints
{
    /// <summary>The caller's own API tokens (any role); an Admin's view of everyone's with <c>?all=true</c>.</summary>
    public static IEndpointRouteBuilder MapApiTokenEndpoints(this IEndpointRouteBuilder app)
    {
        var tokens = app.MapAdminGroup("/api-tokens", "API tokens");
        tokens.MapGet("/", async (bool? all, HttpContext http, ApiTokens service, CancellationToken ct) =>
                TypedResults.Ok(await service.ListAsync(Caller.From(http), all == true, ct)))
            .WithName("ListApiTokens")
            .WithSummary("Your API tokens (never the token itself); all=true lists every user's (Admins).");
        tokens.MapPost("/", async (CreateApiTokenRequest request, HttpContext http, ApiTokens service, CancellationToken ct) =>
            {
                var created = await service.CreateAsync(Caller.From(http), request, ct);
                return TypedResults.Created($"/api/v1/admin/api-tokens/{created.Id}", created);
            })
            .WithName("CreateApiToken")
            .WithSummary("Create an API token for yourself; the response is the only time the token is shown.")
            .WithDescription("scope: a role no wider than yours (default: yours); the token never does more than your current role. "
                + "expiresAt: within a year (default: 90 days).")
            .ProducesValidationProblem();
        tokens.MapPost("/{id:guid}/revoke", async Task<Results<NoContent, NotFound>> (Guid id, HttpContext http, ApiTokens service, CancellationToken ct) =>
                await service.RevokeAsync(Caller.From(http), id, ct) ? TypedResults.NoContent() : TypedResults.NotFound())
            .WithName("RevokeApiToken")
            .WithSummary("Revoke one of your API tokens (an Admin: anyone's): every node refuses it (401) within a second.");
        return app;
    }
}
