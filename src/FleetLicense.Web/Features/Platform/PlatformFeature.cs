using FleetLicense.Web.Features.Scheduling;
using Quartz;

namespace FleetLicense.Web.Features.Platform;

public static class PlatformFeature
{
    /// <summary>This node's identity and heartbeat, the cluster's status for the System page, health checks and background loops.</summary>
    public static IServiceCollection AddPlatform(this IServiceCollection services)
    {
        services.AddOptions<SystemOptions>()
            .BindConfiguration(SystemOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<NodeIdentity>();
        services.AddSingleton<NodeHeartbeat>();
        services.AddSingleton<SystemStatusService>();
        services.AddSingleton<BackgroundLoops>();
        services.AddHealthChecks()
            .AddCheck<PostgresHealthCheck>("postgresql", tags: ["ready"])
            .AddCheck<BackgroundLoopsHealthCheck>("background-loops", tags: ["ready"]);
        // Loops keep themselves running (BackgroundLoops); an exception that still escapes a hosted service must
        // not end the process and every agent's connection with it.
        services.Configure<HostOptions>(o => o.BackgroundServiceExceptionBehavior = BackgroundServiceExceptionBehavior.Ignore);
        services.AddSingleton<IScheduledJobSetup, HeartbeatScheduleSetup>();
        return services;
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
