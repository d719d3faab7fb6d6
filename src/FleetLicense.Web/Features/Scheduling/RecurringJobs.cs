using Quartz;

namespace FleetLicense.Web.Features.Scheduling;

/// <summary>
/// The one way a feature declares its jobs. Every node declares the same job and trigger at start; replacing keeps
/// one of each, and the trigger's next run starts from now. Jobs derive from <see cref="FleetJob"/>, so each run
/// is recorded in <c>job_runs</c>.
/// </summary>
public static class RecurringJobs
{
    /// <summary>Every <paramref name="every"/>, on whichever node of the cluster picks the firing up.</summary>
    public static Task EveryAsync<TJob>(IScheduler scheduler, JobKey key, TimeSpan every, CancellationToken cancellationToken)
        where TJob : FleetJob =>
        ScheduleAsync<TJob>(scheduler, key, TriggerBuilder.Create()
            .WithIdentity(key.Name, key.Group)
            .ForJob(key)
            .StartNow()
            .WithSimpleSchedule(s => Every(s, every))
            .Build(), cancellationToken);

    /// <summary>
    /// Every <paramref name="every"/> on node <paramref name="nodeId"/> only: one trigger per node, so every node
    /// runs it (an unpinned trigger fires on one node of the cluster).
    /// </summary>
    public static Task EveryOnNodeAsync<TJob>(IScheduler scheduler, JobKey key, string nodeId, TimeSpan every, CancellationToken cancellationToken)
        where TJob : FleetJob =>
        ScheduleAsync<TJob>(scheduler, key, TriggerBuilder.Create()
            .WithIdentity(TriggerOnNode(key, nodeId))
            .ForJob(key)
            .WithPreferredNode(PreferredNode.For(nodeId))
            .StartNow()
            .WithSimpleSchedule(s => Every(s, every))
            .Build(), cancellationToken);

    /// <summary>At the times of a Quartz cron expression, evaluated in UTC.</summary>
    public static Task CronAsync<TJob>(IScheduler scheduler, JobKey key, string cron, CancellationToken cancellationToken)
        where TJob : FleetJob
    {
        var trigger = TriggerBuilder.Create()
            .WithIdentity(key.Name, key.Group)
            .ForJob(key)
            .WithCronSchedule(cron, c => c.InTimeZone(TimeZoneInfo.Utc).WithMisfireInstruction(CronTriggerMisfireInstruction.FireAndProceed))
            .Build();
        return ScheduleAsync<TJob>(scheduler, key, trigger, cancellationToken);
    }

    /// <summary>
    /// A job with no schedule, run when something asks (<c>TriggerJob</c>) on any node; stored durably and
    /// recovered if the node running it dies.
    /// </summary>
    public static async Task OnDemandAsync<TJob>(IScheduler scheduler, JobKey key, CancellationToken cancellationToken)
        where TJob : FleetJob =>
        await scheduler.AddJob(JobBuilder.Create<TJob>().WithIdentity(key).StoreDurably().RequestRecovery().Build(), AddJobOptions.Replacing, cancellationToken);

    public static TriggerKey TriggerOnNode(JobKey key, string nodeId) => new($"{key.Name}:{nodeId}", key.Group);

    private static void Every(SimpleScheduleBuilder schedule, TimeSpan every) =>
        schedule.WithInterval(every).RepeatForever().WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount);

    private static async Task ScheduleAsync<TJob>(IScheduler scheduler, JobKey key, ITrigger trigger, CancellationToken cancellationToken)
        where TJob : FleetJob
    {
        var job = JobBuilder.Create<TJob>().WithIdentity(key).StoreDurably().Build();
        await scheduler.AddJob(job, AddJobOptions.Replacing, cancellationToken);
        await scheduler.ScheduleJob(trigger, ScheduleJobOptions.Replacing, cancellationToken);
    }
}
