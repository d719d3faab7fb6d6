using System.ComponentModel.DataAnnotations;
using FleetLicense.Web.Features.Machines;
using FleetLicense.Web.Features.Policy;
using FleetLicense.Web.Features.Scheduling;
using Microsoft.Extensions.Options;
using Quartz;

namespace FleetLicense.Web.Features.Flags;

public sealed class FlagsOptions
{
    public const string SectionName = "Flags";

    /// <summary>How often the fleet-wide rules (key reuse, MAK over-use) run and ended waivers reopen their flags.</summary>
    [Range(1, 86_400)]
    public int FleetRulesSeconds { get; set; } = 60;
}

public static class FlagsFeature
{
    /// <summary>Findings of the rules: their lifecycle, the fleet-wide rules and re-evaluation after a policy change.</summary>
    public static IServiceCollection AddFlags(this IServiceCollection services)
    {
        services.AddOptions<FlagsOptions>().BindConfiguration(FlagsOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<FlagService>();
        services.AddSingleton<FlagBoard>();
        services.AddSingleton<IMachineFindings, FlagFindings>();
        services.AddSingleton<FleetRules>();
        services.AddSingleton<Reevaluation>();
        services.AddSingleton<IScheduledJobSetup, FlagJobs>();
        return services;
    }
}

internal sealed class FlagJobs(IOptions<FlagsOptions> options) : IScheduledJobSetup
{
    public async Task ScheduleAsync(IScheduler scheduler, CancellationToken cancellationToken)
    {
        await RecurringJobs.EveryAsync<FleetRulesJob>(scheduler, FleetRulesJob.Key, TimeSpan.FromSeconds(options.Value.FleetRulesSeconds), cancellationToken);
        // Fired on demand when the policy changes (PolicyReevaluation), on whichever node picks it up.
        await RecurringJobs.OnDemandAsync<ReevaluationJob>(scheduler, ReevaluationJob.Key, cancellationToken);
    }
}

/// <summary>
/// Runs <see cref="Reevaluation"/> once, on one node of the cluster, when the policy changes. At a million machines
/// that takes minutes, so its progress is kept (the policy page shows it).
/// </summary>
[DisallowConcurrentExecution]
public sealed class ReevaluationJob(Reevaluation reevaluation, JobRunServices services) : FleetJob(services)
{
    public static readonly JobKey Key = PolicyReevaluation.JobKey;

    protected override bool ReportsProgress => true;

    protected override async Task<string> RunAsync(CancellationToken cancellationToken) =>
        $"{await reevaluation.RunAsync((done, total, ct) => ReportProgressAsync(done, total, ct), cancellationToken)} flag(s) changed";
}

/// <summary>Fleet rules and ended waivers, every minute on one node of the cluster.</summary>
[DisallowConcurrentExecution]
public sealed class FleetRulesJob(FleetRules fleetRules, FlagService flags, JobRunServices services) : FleetJob(services)
{
    public static readonly JobKey Key = new("fleet-rules", "flags");

    protected override LogLevel SucceededLevel => LogLevel.Debug;

    protected override async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        var changed = await fleetRules.RunAsync(cancellationToken);
        var reopened = await flags.EndExpiredWaiversAsync(cancellationToken);
        return $"{changed} flag(s) changed, {reopened} waiver(s) ended";
    }
}
