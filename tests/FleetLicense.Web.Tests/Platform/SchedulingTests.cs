using System.Reflection;
using FleetLicense.Testing;
using FleetLicense.Web.Features.Scheduling;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using Quartz;

namespace FleetLicense.Web.Tests.Platform;

public sealed class SchedulingTests(PostgresFixture postgres)
{
    [Fact]
    public async Task EveryRegisteredJob_WhenItFires_IsRecordedInTheRunTableAsSucceeded()
    {
        var ct = TestContext.Current.CancellationToken;
        var connectionString = await postgres.CreateDatabaseAsync(nameof(EveryRegisteredJob_WhenItFires_IsRecordedInTheRunTableAsSucceeded));
        // Each schedule comes from its own feature's section; all of them short, so every recurring job fires soon.
        await using var app = new FleetWebFactory(connectionString, settings: new Dictionary<string, string?>
        {
            ["Alerts:EvaluationSeconds"] = "1",
            ["Alerts:DeliverySeconds"] = "1",
            ["Fleet:SnapshotCron"] = "* * * * * ?",
            ["Fleet:StaleAgentMinutes"] = "1",
            ["Ingestion:RawReportPartitionsMinutes"] = "1",
            ["Flags:FleetRulesSeconds"] = "1",
        });
        using var client = app.CreateClient();
        var scheduler = await app.Services.GetRequiredService<ISchedulerFactory>().GetScheduler(ct);
        var jobs = await Eventually.GetAsync(
            async () => await scheduler.GetJobKeys(GroupMatcher<JobKey>.AnyGroup(), ct),
            keys => keys.Count >= 11, what: "every feature's jobs to be declared");

        // Jobs without a schedule run when asked (the policy page asks for re-evaluation): ask once.
        foreach (var key in jobs)
        {
            if ((await scheduler.GetTriggersOfJob(key, ct)).Count == 0)
            {
                await scheduler.TriggerJob(key, ct);
            }
        }

        var names = jobs.Select(k => k.Name).Order(StringComparer.Ordinal).ToList();
        var recorded = await Eventually.GetAsync(
            () => SucceededJobsAsync(connectionString, ct),
            done => names.All(done.Contains), TimeSpan.FromSeconds(60), "a succeeded run of every job in job_runs");

        Assert.Equal(
            ["alert-delivery", "alert-evaluation", "export-retention", "exports", "fleet-rules", "fleet-snapshot", "node-heartbeat", "policy-reevaluation", "raw-report-partitions",
                "scheduled-exports", "stale-agents"],
            names);
        Assert.Equal(names, recorded.Where(names.Contains).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void EveryQuartzJob_InTheApp_IsAFleetJob()
    {
        // FleetJob is what records a run, logs it and keeps a failure from escaping; a bare IJob would do none of that.
        var bare = typeof(FleetJob).Assembly.GetTypes()
            .Where(t => typeof(IJob).IsAssignableFrom(t) && !t.IsAbstract && !t.IsSubclassOf(typeof(FleetJob)))
            .Select(t => t.FullName)
            .ToList();
        var jobs = typeof(FleetJob).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(FleetJob))).ToList();

        Assert.Empty(bare);
        Assert.True(jobs.Count >= 8, $"{jobs.Count} jobs found");
        Assert.All(jobs, j => Assert.NotNull(j.GetCustomAttribute<DisallowConcurrentExecutionAttribute>()));
    }

    [Fact]
    public async Task Start_WhenTheFormerJobsSectionIsSet_FailsNamingTheSettingThatReplacesIt()
    {
        await using var app = new FleetWebFactory(await postgres.CreateDatabaseAsync("formerjobs"),
            settings: new Dictionary<string, string?> { ["Jobs:AlertEvaluationSeconds"] = "30" });

        var error = Assert.Throws<OptionsValidationException>(() => app.CreateClient());

        Assert.Contains("Jobs:AlertEvaluationSeconds is no longer read: set Alerts:EvaluationSeconds instead.", error.Message, StringComparison.Ordinal);
    }

    private static async Task<List<string>> SucceededJobsAsync(string connectionString, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand("SELECT DISTINCT job FROM job_runs WHERE outcome = 'Succeeded'", connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var jobs = new List<string>();
        while (await reader.ReadAsync(ct))
        {
            jobs.Add(reader.GetString(0));
        }

        return jobs;
    }
}
