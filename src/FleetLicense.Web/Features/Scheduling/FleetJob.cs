using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Npgsql;
using Quartz;

namespace FleetLicense.Web.Features.Scheduling;

/// <summary>One execution of a scheduled job on one node: the cluster's record that a firing happened once, and how it ended.</summary>
public sealed class JobRun
{
    public long Id { get; set; }

    public required string Job { get; set; }

    /// <summary>The trigger's scheduled fire time: two rows with the same job and time would be a double fire.</summary>
    public DateTimeOffset? ScheduledAt { get; set; }

    public DateTimeOffset StartedAt { get; set; }

    public DateTimeOffset FinishedAt { get; set; }

    public required string Node { get; set; }

    /// <summary><c>Succeeded</c> or <c>Failed</c>.</summary>
    public required string Outcome { get; set; }

    public string? Detail { get; set; }
}

internal sealed class JobRunConfiguration : IEntityTypeConfiguration<JobRun>
{
    public void Configure(EntityTypeBuilder<JobRun> builder)
    {
        builder.Property(r => r.Job).HasMaxLength(200);
        builder.Property(r => r.Node).HasMaxLength(200);
        builder.Property(r => r.Outcome).HasMaxLength(20);
        builder.Property(r => r.Detail).HasMaxLength(2000);
        builder.HasIndex(r => new { r.Job, r.StartedAt });
    }
}

/// <summary>
/// The boundary of every FleetLicense job: runs the feature's work, logs the outcome, records it in <c>job_runs</c>,
/// and keeps a failure from escaping into Quartz (the next firing retries). Subclasses stay thin: one service call.
/// Subclasses carry <see cref="DisallowConcurrentExecutionAttribute"/>, so a job never overlaps itself in the cluster.
/// A run is recorded under its job key's name, so the run table names exactly the jobs the scheduler holds.
/// </summary>
public abstract partial class FleetJob(JobRunServices services) : IJob
{
    /// <summary>Jobs that fire every few seconds on every node log success at Debug, so the log keeps what matters.</summary>
    protected virtual LogLevel SucceededLevel => LogLevel.Information;

    /// <summary>
    /// Jobs that take minutes keep a <see cref="JobProgress"/> row from start to end, so people can watch them on any
    /// node; their work calls <see cref="ReportProgressAsync"/> as it goes.
    /// </summary>
    protected virtual bool ReportsProgress => false;

    private string? _running;

    /// <summary>The job's work; returns a one-line outcome for the log and the run record.</summary>
    protected abstract Task<string> RunAsync(CancellationToken cancellationToken);

    /// <summary>How far this run has got: <paramref name="done"/> of <paramref name="total"/> (null while not counted).</summary>
    protected Task ReportProgressAsync(long done, long? total, CancellationToken cancellationToken) =>
        ReportsProgress && _running is { } job ? services.Progress.ReportAsync(job, done, total, cancellationToken) : Task.CompletedTask;

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        var name = context.JobDetail.Key.Name;
        var started = services.Time.GetUtcNow();
        string outcome;
        string detail;
        try
        {
            if (ReportsProgress)
            {
                await services.Progress.StartAsync(name, context.Scheduler.SchedulerInstanceId, started, cancellationToken);
                _running = name;
            }

            detail = await RunAsync(cancellationToken);
            outcome = JobOutcome.Succeeded;
            LogSucceeded(services.Logger, SucceededLevel, name, detail);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The node is stopping; a progress row left running says so by no longer moving.
            return;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Logged with the exception; the record keeps only its type and message.
            outcome = JobOutcome.Failed;
            detail = $"{ex.GetType().Name}: {ex.Message}";
            LogFailed(services.Logger, name, ex);
        }

        detail = detail.Length > 2000 ? detail[..2000] : detail;
        try
        {
            await services.RecordAsync(new JobRun
            {
                Job = name,
                ScheduledAt = context.ScheduledFireTimeUtc,
                StartedAt = started,
                FinishedAt = services.Time.GetUtcNow(),
                // The scheduler instance id is the node id (AddScheduling), so the run names the node that ran it.
                Node = context.Scheduler.SchedulerInstanceId,
                Outcome = outcome,
                Detail = detail,
            }, cancellationToken);
            if (_running is not null)
            {
                await services.Progress.FinishAsync(name, outcome, detail, cancellationToken);
            }
        }
        catch (NpgsqlException ex)
        {
            LogRecordFailed(services.Logger, name, ex);
        }
    }

    [LoggerMessage(Message = "Job {Job} succeeded: {Detail}")]
    private static partial void LogSucceeded(ILogger logger, LogLevel level, string job, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {Job} failed; the next firing retries")]
    private static partial void LogFailed(ILogger logger, string job, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {Job} ran but its run record could not be stored")]
    private static partial void LogRecordFailed(ILogger logger, string job, Exception exception);
}

/// <summary>What <see cref="FleetJob"/> needs: the clock, a logger and the database.</summary>
public sealed class JobRunServices(NpgsqlDataSource dataSource, JobProgressStore progress, TimeProvider time, ILogger<FleetJob> logger)
{
    public TimeProvider Time { get; } = time;

    public ILogger Logger { get; } = logger;

    public JobProgressStore Progress { get; } = progress;

    public async Task RecordAsync(JobRun run, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO job_runs (job, scheduled_at, started_at, finished_at, node, outcome, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = run.Job });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)run.ScheduledAt ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = run.StartedAt });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = run.FinishedAt });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = run.Node });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = run.Outcome });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)run.Detail ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
