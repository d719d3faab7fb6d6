using FleetLicense.Web.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;

namespace FleetLicense.Web.Features.Machines;

public static class MachineEndpoints
{
    public static IEndpointRouteBuilder MapMachineEndpoints(this IEndpointRouteBuilder app)
    {
        var machines = app.MapAdminGroup("/machines", "Machines");
        machines.MapGet("/{id:guid}", async Task<Results<Ok<MachineDetail>, NotFound>> (Guid id, MachineQueries queries, CancellationToken ct) =>
                await queries.GetAsync(id, ct) is { } machine ? TypedResults.Ok(machine) : TypedResults.NotFound())
            .WithName("GetMachine").WithSummary("A machine's identity, facts and every licensed product as last reported.");
        machines.MapGet("/{id:guid}/history", async (Guid id, DateTimeOffset? until, int? take, MachineQueries queries, CancellationToken ct) =>
                TypedResults.Ok(await queries.HistoryAsync(id, until, take ?? 200, ct)))
            .WithName("GetMachineHistory").WithSummary("The machine's licensing changes, newest first (only changes are kept).");
        machines.MapGet("/{id:guid}/as-of", async (Guid id, DateTimeOffset at, MachineQueries queries, CancellationToken ct) =>
                TypedResults.Ok(await queries.AsOfAsync(id, at, ct)))
            .WithName("GetMachineAsOf").WithSummary("The machine's licensing as it stood at a moment, rebuilt from its history.");
        app.MapAdminGroup("/kms-hosts", "KMS hosts")
            .MapGet("/", async (MachineQueries queries, CancellationToken ct) => TypedResults.Ok(await queries.KmsHostsAsync(ct)))
            .WithName("ListKmsHosts").WithSummary("Every KMS host machines activate against, with machine counts and whether it is allowlisted or a known emulator.");
        return app;
    }
}
