using Quartz;

namespace FleetLicense.Web.Features.Scheduling;

/// <summary>Declares cluster-wide recurring jobs. Every node declares the same job and trigger; replacing keeps one of each.</summary>
public static class RecurringJobs
{
    public static async Task EveryAsync<TJob>(IScheduler scheduler, JobKey key, TimeSpan every, CancellationToken cancellationToken)
        where TJob : IJob
    {
        var trigger = TriggerBuilder.Create()
            .WithIdentity(key.Name, key.Group)
            .ForJob(key)
            .StartNow()
            .WithSimpleSchedule(s => s.WithInterval(every).RepeatForever().WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount))
            .Build();
        await ScheduleAsync<TJob>(scheduler, key, trigger, cancellationToken);
    }

    public static async Task CronAsync<TJob>(IScheduler scheduler, JobKey key, string cron, CancellationToken cancellationToken)
        where TJob : IJob
    {
        var trigger = TriggerBuilder.Create()
            .WithIdentity(key.Name, key.Group)
            .ForJob(key)
            .WithCronSchedule(cron, c => c.InTimeZone(TimeZoneInfo.Utc).WithMisfireInstruction(CronTriggerMisfireInstruction.FireAndProceed))
            .Build();
        await ScheduleAsync<TJob>(scheduler, key, trigger, cancellationToken);
    }

    private static async Task ScheduleAsync<TJob>(IScheduler scheduler, JobKey key, ITrigger trigger, CancellationToken cancellationToken)
        where TJob : IJob
    {
        var job = JobBuilder.Create<TJob>().WithIdentity(key).StoreDurably().Build();
        await scheduler.AddJob(job, AddJobOptions.Replacing, cancellationToken);
        await scheduler.ScheduleJob(trigger, ScheduleJobOptions.Replacing, cancellationToken);
    }
}
