using FleetLicense.Web.Features.Flags;
using FleetLicense.Web.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;
using Quartz;

namespace FleetLicense.Web.Features.Policy;

public sealed record UpdatePolicyRequest(FleetPolicy Policy, string? By, string? Comment);

public static class PolicyEndpoints
{
    public static IEndpointRouteBuilder MapPolicyEndpoints(this IEndpointRouteBuilder app)
    {
        var policy = app.MapAdminGroup("/policy", "Policy");
        policy.MapGet("/", async (PolicyService service, CancellationToken ct) => TypedResults.Ok(await service.GetCurrentAsync(ct)))
            .WithName("GetPolicy").WithSummary("The policy in force (version 0 = built-in defaults).");
        policy.MapGet("/history", async (PolicyService service, CancellationToken ct) => TypedResults.Ok(await service.GetHistoryAsync(ct)))
            .WithName("GetPolicyHistory").WithSummary("Every saved version, newest first.");
        policy.MapPut("/", UpdateAsync)
            .WithName("UpdatePolicy")
            .WithSummary("Save a new policy version; every machine's flags are then re-evaluated in the background.")
            .ProducesValidationProblem();
        return app;
    }

    private static async Task<Results<Ok<PolicySnapshot>, ValidationProblem>> UpdateAsync(UpdatePolicyRequest request, PolicyService service, ISchedulerFactory schedulers, CancellationToken ct)
    {
        if (request.Policy is null)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["policy"] = ["Required."] });
        }

        var (saved, errors) = await service.SaveAsync(request.Policy, AdminApi.Actor(request.By), request.Comment?.Trim(), ct);
        if (errors is not null)
        {
            return TypedResults.ValidationProblem(errors, title: "The policy is not valid.");
        }

        await PolicyReevaluation.RequestAsync(schedulers, ct);
        return TypedResults.Ok(saved!);
    }
}

public static class PolicyReevaluation
{
    /// <summary>Asks the clustered scheduler to re-evaluate every machine once, on whichever node is free.</summary>
    public static async Task RequestAsync(ISchedulerFactory schedulers, CancellationToken cancellationToken)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        await scheduler.TriggerJob(ReevaluationJob.Key, cancellationToken);
    }
}
