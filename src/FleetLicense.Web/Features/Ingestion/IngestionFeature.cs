using FleetLicense.Web.Features.Platform;
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
        services.AddSingleton<IIngestionGauges, IngestionGauges>();
        services.AddSingleton<IScheduledJobSetup, IngestionJobs>();
        return services;
    }
}

internal sealed class IngestionJobs(IOptions<IngestionOptions> options) : IScheduledJobSetup
{
    public Task ScheduleAsync(IScheduler scheduler, CancellationToken cancellationToken) =>
        RecurringJobs.EveryAsync<RawReportPartitionsJob>(scheduler, RawReportPartitionsJob.Key, TimeSpan.FromMinutes(options.Value.RawReportPartitionsMinutes), cancellationToken);
}
