using FleetLicense.Web.Features.Flags;
using FleetLicense.Web.Features.Scheduling;
using Microsoft.Extensions.Options;
using Quartz;

namespace FleetLicense.Web.Features.Ingestion;

public static class IngestionFeature
{
    /// <summary>Device authentication, report intake, the raw report log and its projection onto the machines.</summary>
    public static IServiceCollection AddIngestion(this IServiceCollection services)
    {
        services.AddOptions<IngestionOptions>().BindConfiguration(IngestionOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<DeviceAuthenticator>();
        services.AddSingleton<DeviceRateLimiter>();
        services.AddSingleton<ProjectionSignal>();
        services.AddSingleton<ProjectionMetrics>();
        services.AddSingleton<RecentReports>();
        services.AddSingleton<ReportWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<ReportWriter>());
        services.AddSingleton<ReportIntake>();
        services.AddSingleton<ReportProjector>();
        services.AddHostedService(sp => sp.GetRequiredService<ReportProjector>());
        services.AddSingleton<RawReportPartitions>();
        services.AddSingleton<IScheduledJobSetup, IngestionJobs>();
        return services;
    }
}

/// <summary>The recurring jobs of this feature, shared by the whole cluster (each fires on one node).</summary>
internal sealed class IngestionJobs(Microsoft.Extensions.Options.IOptions<JobsOptions> jobs) : IScheduledJobSetup
{
    public async Task ScheduleAsync(IScheduler scheduler, CancellationToken cancellationToken)
    {
        await Recurring<FleetRulesJob>(scheduler, FleetRulesJob.Key, TimeSpan.FromMinutes(1), cancellationToken);
        await Recurring<RawReportPartitionsJob>(scheduler, RawReportPartitionsJob.Key, TimeSpan.FromMinutes(jobs.Value.RawReportPartitionsMinutes), cancellationToken);
        // Fired on demand when the policy changes; stored durably so any node can trigger it.
        await scheduler.AddJob(JobBuilder.Create<ReevaluationJob>().WithIdentity(ReevaluationJob.Key).StoreDurably().RequestRecovery().Build(),
            AddJobOptions.Replacing, cancellationToken);
    }

    private static async Task Recurring<TJob>(IScheduler scheduler, JobKey key, TimeSpan every, CancellationToken cancellationToken)
        where TJob : IJob
    {
        var job = JobBuilder.Create<TJob>().WithIdentity(key).StoreDurably().Build();
        var trigger = TriggerBuilder.Create()
            .WithIdentity(key.Name, key.Group)
            .ForJob(key)
            .StartNow()
            .WithSimpleSchedule(s => s.WithInterval(every).RepeatForever().WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount))
            .Build();
        await scheduler.AddJob(job, AddJobOptions.Replacing, cancellationToken);
        // Every node declares the same trigger; replacing keeps one trigger whose next run starts from now.
        await scheduler.ScheduleJob(trigger, ScheduleJobOptions.Replacing, cancellationToken);
    }
}
