using FleetLicense.Web.Features.Scheduling;
using Microsoft.Extensions.Options;
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

/// <summary>This node's own heartbeat trigger; the job definition is shared by all nodes.</summary>
internal sealed class HeartbeatScheduleSetup(NodeIdentity node, IOptions<SystemOptions> options) : IScheduledJobSetup
{
    public Task ScheduleAsync(IScheduler scheduler, CancellationToken cancellationToken) =>
        RecurringJobs.EveryOnNodeAsync<NodeHeartbeatJob>(scheduler, NodeHeartbeatJob.Key, node.Id, TimeSpan.FromSeconds(options.Value.HeartbeatSeconds), cancellationToken);
}
