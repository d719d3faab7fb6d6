using FleetLicense.Web.Features.Scheduling;
using Microsoft.Extensions.Options;
using Quartz;

namespace FleetLicense.Web.Features.Fleet;

public static class FleetFeature
{
    /// <summary>Fleet-wide upkeep: the daily snapshot for trend charts and stale-agent marking.</summary>
    public static WebApplicationBuilder AddFleetFeature(this WebApplicationBuilder builder)
    {
        // Agent liveness has one window, the policy's silent agent days; a leftover setting would be ignored silently.
        if (builder.Configuration["Fleet:StaleAfterDays"] is not null)
        {
            throw new InvalidOperationException(
                "Fleet:StaleAfterDays is no longer read: stale marking uses the policy's silent agent days (Settings → Policy) like every other view of agent liveness. Remove the setting.");
        }

        builder.Services.AddSingleton<FleetTrends>();
        builder.Services.AddSingleton<IScheduledJobSetup, FleetJobs>();
        return builder;
    }
}

internal sealed class FleetJobs(IOptions<JobsOptions> jobs) : IScheduledJobSetup
{
    public async Task ScheduleAsync(IScheduler scheduler, CancellationToken cancellationToken)
    {
        await RecurringJobs.CronAsync<FleetSnapshotJob>(scheduler, FleetSnapshotJob.Key, jobs.Value.FleetSnapshotCron, cancellationToken);
        await RecurringJobs.EveryAsync<StaleAgentJob>(scheduler, StaleAgentJob.Key, TimeSpan.FromMinutes(jobs.Value.StaleAgentMinutes), cancellationToken);
    }
}

/// <summary>Once a day: the fleet's counts by status, channel, edition and agent state (an upsert of the day's rows).</summary>
[DisallowConcurrentExecution]
public sealed class FleetSnapshotJob(FleetTrends trends, JobRunServices services) : FleetJob(services)
{
    public static readonly JobKey Key = new("fleet-snapshot", "fleet");

    protected override string Name => Key.Name;

    protected override async Task<string> RunAsync(CancellationToken cancellationToken) =>
        $"{await trends.SnapshotAsync(cancellationToken)} snapshot row(s) written";
}

/// <summary>Marks machines whose agent went silent as stale, and clears the mark when they report again.</summary>
[DisallowConcurrentExecution]
public sealed class StaleAgentJob(FleetTrends trends, JobRunServices services) : FleetJob(services)
{
    public static readonly JobKey Key = new("stale-agents", "fleet");

    protected override string Name => Key.Name;

    protected override async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        var (marked, cleared) = await trends.MarkStaleAsync(cancellationToken);
        return $"{marked} machine(s) marked stale, {cleared} reporting again";
    }
}
