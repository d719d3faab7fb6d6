using System.ComponentModel.DataAnnotations;
using FleetLicense.Web.Features.Scheduling;
using FleetLicense.Web.Infrastructure;
using Microsoft.Extensions.Options;
using Quartz;

namespace FleetLicense.Web.Features.Fleet;

public sealed class FleetOptions
{
    public const string SectionName = "Fleet";

    /// <summary>When the daily fleet snapshot is taken (Quartz cron, UTC); it upserts the day's row, so reruns are harmless.</summary>
    [Required]
    [QuartzCron]
    public string SnapshotCron { get; set; } = "0 55 23 * * ?";

    /// <summary>How often machines whose agent went silent are marked stale.</summary>
    [Range(1, 1440)]
    public int StaleAgentMinutes { get; set; } = 60;
}

public static class FleetFeature
{
    /// <summary>Fleet-wide upkeep: the daily snapshot for trend charts and stale-agent marking.</summary>
    public static IServiceCollection AddFleet(this IServiceCollection services)
    {
        services.AddOptions<FleetOptions>().BindConfiguration(FleetOptions.SectionName).ValidateDataAnnotations()
            // Agent liveness has one window, the policy's silent agent days.
            .RefuseRemoved($"{FleetOptions.SectionName}:StaleAfterDays",
                _ => "stale marking uses the policy's silent agent days (Settings → Policy) like every other view of agent liveness. Remove the setting.")
            .ValidateOnStart();
        services.AddSingleton<FleetTrends>();
        services.AddSingleton<IScheduledJobSetup, FleetJobs>();
        return services;
    }
}

internal sealed class FleetJobs(IOptions<FleetOptions> options) : IScheduledJobSetup
{
    public async Task ScheduleAsync(IScheduler scheduler, CancellationToken cancellationToken)
    {
        await RecurringJobs.CronAsync<FleetSnapshotJob>(scheduler, FleetSnapshotJob.Key, options.Value.SnapshotCron, cancellationToken);
        await RecurringJobs.EveryAsync<StaleAgentJob>(scheduler, StaleAgentJob.Key, TimeSpan.FromMinutes(options.Value.StaleAgentMinutes), cancellationToken);
    }
}

/// <summary>Once a day: the fleet's counts by status, channel, edition and agent state (an upsert of the day's rows).</summary>
[DisallowConcurrentExecution]
public sealed class FleetSnapshotJob(FleetTrends trends, JobRunServices services) : FleetJob(services)
{
    public static readonly JobKey Key = new("fleet-snapshot", "fleet");

    protected override async Task<string> RunAsync(CancellationToken cancellationToken) =>
        $"{await trends.SnapshotAsync(cancellationToken)} snapshot row(s) written";
}

/// <summary>Marks machines whose agent went silent as stale, and clears the mark when they report again.</summary>
[DisallowConcurrentExecution]
public sealed class StaleAgentJob(FleetTrends trends, JobRunServices services) : FleetJob(services)
{
    public static readonly JobKey Key = new("stale-agents", "fleet");

    protected override async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        var (marked, cleared) = await trends.MarkStaleAsync(cancellationToken);
        return $"{marked} machine(s) marked stale, {cleared} reporting again";
    }
}
