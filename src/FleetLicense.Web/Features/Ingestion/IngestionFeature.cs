using FleetLicense.Web.Features.Enrollment;
using FleetLicense.Web.Features.Flags;
using FleetLicense.Web.Features.Machines;
using FleetLicense.Web.Features.Policy;
using FleetLicense.Web.Features.Scheduling;
using FleetLicense.Web.Infrastructure;
using Microsoft.Extensions.Options;
using Quartz;

namespace FleetLicense.Web.Features.Ingestion;

public static class IngestionFeature
{
    /// <summary>Enrolment, report ingestion and projection, flags, policy and the machine read models.</summary>
    public static WebApplicationBuilder AddIngestionFeature(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<IngestionOptions>().BindConfiguration(IngestionOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<SecurityOptions>().BindConfiguration(SecurityOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddAbuseLimits();
        builder.Services.AddSingleton<AdminTokenFilter>();

        builder.Services.AddSingleton<PolicyService>();
        builder.Services.AddSingleton<PolicyEditor>();
        builder.Services.AddSingleton<PolicyReevaluation>();
        builder.Services.AddSingleton<DeviceAuthenticator>();
        builder.Services.AddSingleton<DeviceRateLimiter>();
        builder.Services.AddSingleton<EnrollmentService>();
        builder.Services.AddSingleton<ProjectionSignal>();
        builder.Services.AddSingleton<ProjectionMetrics>();
        builder.Services.AddSingleton<RecentReports>();
        builder.Services.AddSingleton<ReportWriter>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ReportWriter>());
        builder.Services.AddSingleton<ReportIntake>();
        builder.Services.AddSingleton<ReportProjector>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ReportProjector>());

        builder.Services.AddSingleton<FlagService>();
        builder.Services.AddSingleton<FlagBoard>();
        builder.Services.AddSingleton<FleetRules>();
        builder.Services.AddSingleton<Reevaluation>();
        builder.Services.AddSingleton<MachineQueries>();
        builder.Services.AddSingleton<AgentQueries>();
        builder.Services.AddSingleton<RawReportPartitions>();
        builder.Services.AddSingleton<IScheduledJobSetup, IngestionJobs>();
        return builder;
    }

    public static IEndpointRouteBuilder MapIngestionEndpoints(this IEndpointRouteBuilder app) => app
        .MapEnrollmentEndpoints()
        .MapReportEndpoints()
        .MapFlagEndpoints()
        .MapPolicyEndpoints()
        .MapMachineEndpoints();
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
