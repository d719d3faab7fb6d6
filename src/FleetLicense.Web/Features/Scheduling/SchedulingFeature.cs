using System.ComponentModel.DataAnnotations;
using FleetLicense.Web.Infrastructure;
using Microsoft.Extensions.Options;
using Npgsql;
using Quartz;

namespace FleetLicense.Web.Features.Scheduling;

/// <summary>A feature's way to put its jobs and triggers into the shared, clustered scheduler at start.</summary>
public interface IScheduledJobSetup
{
    Task ScheduleAsync(IScheduler scheduler, CancellationToken cancellationToken);
}

public sealed class SchedulingOptions
{
    public const string SectionName = "Scheduling";

    /// <summary>Turn the scheduler off on a node (it still serves the UI and the API).</summary>
    public bool Enabled { get; set; } = true;

    [Range(1, 600)]
    public int ClusterCheckinSeconds { get; set; } = 10;
}

public static class SchedulingFeature
{
    /// <summary>
    /// Quartz.NET on the persistent, clustered PostgreSQL job store created by the first migration, its instance id
    /// <paramref name="nodeId"/> (Platform owns the node's identity; taking it as a value keeps Scheduling below Platform).
    /// </summary>
    public static WebApplicationBuilder AddScheduling(this WebApplicationBuilder builder, string nodeId)
    {
        builder.Services.AddOptions<SchedulingOptions>()
            .BindConfiguration(SchedulingOptions.SectionName)
            .ValidateDataAnnotations()
            .RefuseRemoved("Jobs", key => MovedSchedules.TryGetValue(key.Split(':')[^1], out var moved)
                ? $"set {moved} instead." : "each job's schedule is in its own feature's section.")
            .ValidateOnStart();
        builder.Services.AddSingleton<JobRunServices>();
        builder.Services.AddSingleton<JobProgressStore>();
        var options = builder.Configuration.GetSection(SchedulingOptions.SectionName).Get<SchedulingOptions>() ?? new SchedulingOptions();
        builder.Services.AddQuartz(q =>
        {
            q.ConfigureScheduler(s =>
            {
                s.InstanceName = "FleetLicense";
                s.InstanceId = nodeId;
            });
            q.UsePersistentStore(store =>
            {
                store.UsePostgres(ds => ds.DataSourceFactory = sp => sp.GetRequiredService<NpgsqlDataSource>());
                store.UseClustering(c => c.CheckinInterval = TimeSpan.FromSeconds(Math.Clamp(options.ClusterCheckinSeconds, 1, 600)));
                store.ConfigureStore(s =>
                {
                    s.TablePrefix = "qrtz_";
                    // With lock-free firing rounds a second node can fire a trigger the first already fired.
                    s.LockFreeFiringRounds = false;
                    // The schema is owned by our EF migrations; Quartz only checks it at start.
                    s.SchemaProvisioning = SchemaProvisioning.Validate;
                });
            });
        });
        // A node with scheduling off still reaches the clustered store (to trigger a job) but never runs jobs.
        if (options.Enabled)
        {
            builder.Services.AddQuartzHostedService(o => o.WaitForJobsToComplete = true);
            builder.Services.AddHostedService<ScheduledJobsInstaller>();
        }

        return builder;
    }

    /// <summary>Where each setting of the former <c>Jobs</c> section went: into the options of the feature that owns the job.</summary>
    private static readonly Dictionary<string, string> MovedSchedules = new(StringComparer.OrdinalIgnoreCase)
    {
        ["AlertEvaluationSeconds"] = "Alerts:EvaluationSeconds",
        ["AlertDeliverySeconds"] = "Alerts:DeliverySeconds",
        ["FleetSnapshotCron"] = "Fleet:SnapshotCron",
        ["StaleAgentMinutes"] = "Fleet:StaleAgentMinutes",
        ["RawReportPartitionsMinutes"] = "Ingestion:RawReportPartitionsMinutes",
    };
}

/// <summary>Runs every feature's <see cref="IScheduledJobSetup"/> once the scheduler exists.</summary>
internal sealed class ScheduledJobsInstaller(ISchedulerFactory schedulers, IEnumerable<IScheduledJobSetup> setups) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        foreach (var setup in setups)
        {
            await setup.ScheduleAsync(scheduler, cancellationToken);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
