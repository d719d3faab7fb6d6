using FleetLicense.Domain.Rules;
using FleetLicense.Web.Features.Accounts;
using FleetLicense.Web.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;

namespace FleetLicense.Web.Features.Flags;

/// <summary>Why, and until when (waivers); who is the signed-in user or the API token's owner.</summary>
public sealed record FlagActionRequest(string? Reason, DateTimeOffset? Until);

public sealed record BulkFlagActionRequest(Guid[] Ids, string Action, string? Reason, DateTimeOffset? Until);

public sealed record BulkFlagActionResult(Guid Id, string Outcome);

public static class FlagEndpoints
{
    public static IEndpointRouteBuilder MapFlagEndpoints(this IEndpointRouteBuilder app)
    {
        var flags = app.MapAdminGroup("/flags", "Flags");
        flags.MapGet("/", QueryAsync)
            .WithName("QueryFlags")
            .WithSummary("Flags, most severe and most recent first; filter by status (repeatable), rule, severity or machine.");
        flags.MapGet("/{id:guid}", async Task<Results<Ok<FlagDetail>, NotFound>> (Guid id, FlagService service, CancellationToken ct) =>
                await service.GetAsync(id, ct) is { } found ? TypedResults.Ok(new FlagDetail(found.Flag, found.Events)) : TypedResults.NotFound())
            .WithName("GetFlag")
            .WithSummary("One flag with its full history of transitions.");
        flags.MapPost("/{id:guid}/acknowledge", (Guid id, FlagActionRequest request, HttpContext http, FlagService service, CancellationToken ct) => ActOnOneAsync(id, "acknowledge", request, http, service, ct))
            .RequireAuthorization(FleetPolicies.Operate).WithName("AcknowledgeFlag").WithSummary("Acknowledge an open flag: someone is on it.").ProducesFlagActionErrors();
        flags.MapPost("/{id:guid}/waive", (Guid id, FlagActionRequest request, HttpContext http, FlagService service, CancellationToken ct) => ActOnOneAsync(id, "waive", request, http, service, ct))
            .RequireAuthorization(FleetPolicies.Operate).WithName("WaiveFlag").WithSummary("Waive a flag (reason required, optionally until a date): it stays quiet until then.").ProducesFlagActionErrors();
        flags.MapPost("/{id:guid}/reopen", (Guid id, FlagActionRequest request, HttpContext http, FlagService service, CancellationToken ct) => ActOnOneAsync(id, "reopen", request, http, service, ct))
            .RequireAuthorization(FleetPolicies.Operate).WithName("ReopenFlag").WithSummary("Take back an acknowledgement or waiver.").ProducesFlagActionErrors();
        flags.MapPost("/bulk", ActOnManyAsync)
            .RequireAuthorization(FleetPolicies.Operate).WithName("BulkFlagAction").WithSummary("Acknowledge, waive or reopen many flags at once; each flag's outcome is reported.");
        return app;
    }

    public sealed record FlagDetail(FlagView Flag, IReadOnlyList<FlagEventView> Events);

    // The problem answers a single flag's action gives beside its validation problem (declared by its return type).
    private static RouteHandlerBuilder ProducesFlagActionErrors(this RouteHandlerBuilder endpoint) => endpoint
        .ProducesProblem(StatusCodes.Status404NotFound)
        .ProducesProblem(StatusCodes.Status409Conflict);

    private static async Task<Results<Ok<FlagPage>, ValidationProblem>> QueryAsync(FlagService service, FlagStatus[]? status, string? rule, string? severity, Guid? machineId, int? skip, int? take, CancellationToken ct)
    {
        FindingSeverity? wanted = null;
        if (severity is not null)
        {
            if (!Severities.TryParse(severity, out var parsed))
            {
                return TypedResults.ValidationProblem(
                    new Dictionary<string, string[]> { ["severity"] = [$"Not a severity: one of {string.Join(", ", Severities.MostSevereFirst)}."] }, title: "The flag query is not valid.");
            }

            wanted = parsed;
        }

        return TypedResults.Ok(await service.QueryAsync(new FlagQuery(status, rule, wanted, machineId, skip ?? 0, take ?? 50), ct));
    }

    private static async Task<Results<Ok<FlagDetail>, ValidationProblem, ProblemHttpResult>> ActOnOneAsync(Guid id, string action, FlagActionRequest request, HttpContext http, FlagService service, CancellationToken ct)
    {
        if (Validate(action, 1, request, service.Now) is var (to, errors) && errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "The flag action is not valid.");
        }

        var outcomes = await service.TransitionAsync(Caller.From(http), [id], to!.Value, request.Reason?.Trim(), request.Until, ct);
        return outcomes[id] switch
        {
            FlagActionOutcome.Done when await service.GetAsync(id, ct) is { } f => TypedResults.Ok(new FlagDetail(f.Flag, f.Events)),
            FlagActionOutcome.NotAllowed => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: $"The flag's current status does not allow '{action}'."),
            _ => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such flag."),
        };
    }

    private static async Task<Results<Ok<List<BulkFlagActionResult>>, ValidationProblem>> ActOnManyAsync(BulkFlagActionRequest request, HttpContext http, FlagService service, CancellationToken ct)
    {
        var ids = request.Ids ?? [];
        var single = new FlagActionRequest(request.Reason, request.Until);
        if (Validate(request.Action, ids.Length, single, service.Now) is var (to, errors) && errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "The flag action is not valid.");
        }

        var outcomes = await service.TransitionAsync(Caller.From(http), ids, to!.Value, request.Reason?.Trim(), request.Until, ct);
        return TypedResults.Ok(outcomes.Select(o => new BulkFlagActionResult(o.Key, o.Value.ToString())).ToList());
    }

    private static (FlagStatus? To, Dictionary<string, string[]> Errors) Validate(string? action, int count, FlagActionRequest request, DateTimeOffset now)
    {
        var errors = new Dictionary<string, string[]>();
        FlagStatus? to = action?.ToLowerInvariant() switch
        {
            "acknowledge" => FlagStatus.Acknowledged,
            "waive" => FlagStatus.Waived,
            "reopen" => FlagStatus.Open,
            _ => null,
        };
        if (to is null)
        {
            errors["action"] = ["action is one of acknowledge, waive, reopen."];
        }

        if (count is 0 or > 1000)
        {
            errors["ids"] = ["Give 1 to 1000 flag ids."];
        }

        if (to == FlagStatus.Waived && string.IsNullOrWhiteSpace(request.Reason))
        {
            errors["reason"] = ["A waiver needs a reason."];
        }
        else if (request.Reason is { Length: > 2000 })
        {
            errors["reason"] = ["At most 2000 characters."];
        }

        if (request.Until is { } until && (to != FlagStatus.Waived || until <= now))
        {
            errors["until"] = ["until is for waivers, and must be in the future."];
        }

        return (to, errors);
    }
}
