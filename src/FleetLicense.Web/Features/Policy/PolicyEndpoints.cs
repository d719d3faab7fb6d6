using FleetLicense.Web.Features.Accounts;
using FleetLicense.Web.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;
using Quartz;

namespace FleetLicense.Web.Features.Policy;

public sealed record UpdatePolicyRequest(FleetPolicy Policy, string? Comment);

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
            .RequireAuthorization(FleetPolicies.Administer)
            .WithName("UpdatePolicy")
            .WithSummary("Save a new policy version; every machine's flags are then re-evaluated in the background.")
            .ProducesValidationProblem();
        return app;
    }

    /// <summary>The same path as the page (<see cref="PolicyEditor.SaveAsync"/>): a saved version is answered 200 even when re-evaluation could not be requested.</summary>
    private static async Task<Results<Ok<PolicySaved>, ValidationProblem>> UpdateAsync(UpdatePolicyRequest request, HttpContext http, PolicyEditor editor, CancellationToken ct)
    {
        if (request.Policy is null)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["policy"] = ["Required."] });
        }

        var change = await editor.SaveAsync(Caller.From(http), request.Policy, request.Comment, ct);
        if (change.Saved is not { } saved)
        {
            return TypedResults.ValidationProblem(change.Errors ?? new Dictionary<string, string[]> { ["policy"] = [change.FirstError ?? "Not saved."] }, title: "The policy is not valid.");
        }

        return TypedResults.Ok(new PolicySaved(saved.Version, saved.CreatedAt, saved.CreatedBy, saved.Comment, saved.Policy, !change.ReevaluationFailed,
            change.ReevaluationFailed ? "Saved, but re-evaluating the machines could not be requested; the next scheduled fleet run or the next save re-evaluates them." : null));
    }
}

/// <summary>A saved version, and whether re-evaluating every machine under it was requested (<see cref="Note"/> says why not).</summary>
public sealed record PolicySaved(int Version, DateTimeOffset? CreatedAt, string CreatedBy, string? Comment, FleetPolicy Policy, bool ReevaluationRequested, string? Note);

/// <summary>Asks for every machine to be re-evaluated under the policy in force (a service, so tests can make it fail).</summary>
public class PolicyReevaluation(ISchedulerFactory schedulers)
{
    /// <summary>
    /// The job the policy asks for; Flags runs it (its ReevaluationJob). The key lives here, with the asker, so the
    /// policy does not depend on the flags that depend on it.
    /// </summary>
    public static readonly JobKey JobKey = new("policy-reevaluation", "flags");

    /// <summary>Asks the clustered scheduler to re-evaluate every machine once, on whichever node is free.</summary>
    public virtual async Task RequestAsync(CancellationToken cancellationToken)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        await scheduler.TriggerJob(JobKey, cancellationToken);
    }
}
