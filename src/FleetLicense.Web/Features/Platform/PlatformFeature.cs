using FleetLicense.Web.Features.Scheduling;
using Quartz;

namespace FleetLicense.Web.Features.Platform;

public static class SystemFeature
{
    public static WebApplicationBuilder AddSystemFeature(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<SystemOptions>()
            .BindConfiguration(SystemOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<NodeIdentity>();
        builder.Services.AddSingleton<NodeHeartbeat>();
        builder.Services.AddSingleton<SystemStatusService>();
        builder.Services.AddSingleton<BackgroundLoops>();
        builder.Services.AddHealthChecks()
            .AddCheck<PostgresHealthCheck>("postgresql", tags: ["ready"])
            .AddCheck<BackgroundLoopsHealthCheck>("background-loops", tags: ["ready"]);
        // Loops keep themselves running (BackgroundLoops); an exception that still escapes a hosted service must
        // not end the process and every agent's connection with it.
        builder.Services.Configure<HostOptions>(o => o.BackgroundServiceExceptionBehavior = BackgroundServiceExceptionBehavior.Ignore);
        builder.Services.AddSingleton<IScheduledJobSetup, HeartbeatScheduleSetup>();
        return builder;
    }
}

/// <summary>Adds this node's pinned heartbeat trigger; the job definition is shared by all nodes.</summary>
internal sealed class HeartbeatScheduleSetup(NodeIdentity node, Microsoft.Extensions.Options.IOptions<SystemOptions> options) : IScheduledJobSetup
{
    public async Task ScheduleAsync(IScheduler scheduler, CancellationToken cancellationToken)
    {
        var job = JobBuilder.Create<NodeHeartbeatJob>().WithIdentity(NodeHeartbeatJob.Key).StoreDurably().Build();
        var trigger = TriggerBuilder.Create()
            .WithIdentity(NodeHeartbeatJob.TriggerFor(node.Id))
            .ForJob(NodeHeartbeatJob.Key)
            .WithPreferredNode(PreferredNode.For(node.Id))
            .StartNow()
            .WithSimpleSchedule(s => s.WithInterval(TimeSpan.FromSeconds(options.Value.HeartbeatSeconds)).RepeatForever()
                .WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount))
            .Build();
        await scheduler.AddJob(job, AddJobOptions.Replacing, cancellationToken);
        await scheduler.ScheduleJob(trigger, ScheduleJobOptions.Replacing, cancellationToken);
    }
}
