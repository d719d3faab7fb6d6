using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Npgsql;

namespace FleetLicense.Web.Features.Scheduling;

/// <summary>
/// How far the latest run of a long job has got: one row per job, written by the node running it as it goes, so a
/// page on any node shows it and a reload keeps it. <c>job_runs</c> records every run once it has ended; this row
/// is the one run in flight (or the last one, once ended).
/// </summary>
public sealed class JobProgress
{
    public required string Job { get; set; }

    public required string Node { get; set; }

    public DateTimeOffset StartedAt { get; set; }

    /// <summary>When the running node last wrote the row: a run whose node died stops moving here.</summary>
    public DateTimeOffset UpdatedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    /// <summary>Null while running, then <see cref="JobOutcome.Succeeded"/> or <see cref="JobOutcome.Failed"/>.</summary>
    public string? Outcome { get; set; }

    public long Done { get; set; }

    /// <summary>Null until the job has counted its work; set to <see cref="Done"/> when it succeeds.</summary>
    public long? Total { get; set; }

    public string? Detail { get; set; }
}

/// <summary>How a job run ended, as <c>job_runs</c> and <c>job_progress</c> store it.</summary>
public static class JobOutcome
{
    public const string Succeeded = "Succeeded";

    public const string Failed = "Failed";
}

internal sealed class JobProgressConfiguration : IEntityTypeConfiguration<JobProgress>
{
    public void Configure(EntityTypeBuilder<JobProgress> builder)
    {
        builder.HasKey(p => p.Job);
        builder.Property(p => p.Job).HasMaxLength(200);
        builder.Property(p => p.Node).HasMaxLength(200);
        builder.Property(p => p.Outcome).HasMaxLength(20);
        builder.Property(p => p.Detail).HasMaxLength(2000);
    }
}

/// <summary>Reads and writes <see cref="JobProgress"/> rows; <see cref="FleetJob"/> writes them for jobs that report progress.</summary>
public sealed class JobProgressStore(NpgsqlDataSource dataSource, TimeProvider time)
{
    /// <summary>A new run of <paramref name="job"/> on <paramref name="node"/>: replaces whatever the previous run left.</summary>
    public async Task StartAsync(string job, string node, DateTimeOffset startedAt, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO job_progress (job, node, started_at, updated_at, finished_at, outcome, done, total, detail)
            VALUES ($1, $2, $3, $3, NULL, NULL, 0, NULL, NULL)
            ON CONFLICT (job) DO UPDATE SET node = excluded.node, started_at = excluded.started_at, updated_at = excluded.updated_at,
                finished_at = NULL, outcome = NULL, done = 0, total = NULL, detail = NULL
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = job });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = node });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = startedAt });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// <paramref name="done"/> of <paramref name="total"/> (null: not counted yet). A total counted at the start can be
    /// overtaken by work that appeared since; the stored total never falls below what is done.
    /// </summary>
    public async Task ReportAsync(string job, long done, long? total, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE job_progress SET done = $2, total = CASE WHEN $3 IS NULL THEN NULL ELSE GREATEST($3, $2) END, updated_at = $4
            WHERE job = $1 AND outcome IS NULL
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = job });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = done });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)total ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = time.GetUtcNow() });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Ends the run; a run that succeeded did all there was, so its total becomes what it did.</summary>
    public async Task FinishAsync(string job, string outcome, string? detail, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE job_progress SET outcome = $2, detail = $3, finished_at = $4, updated_at = $4,
                total = CASE WHEN $5 THEN done ELSE total END
            WHERE job = $1 AND outcome IS NULL
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = job });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = outcome });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)detail ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = time.GetUtcNow() });
        command.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = outcome == JobOutcome.Succeeded });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The latest run of <paramref name="job"/>, or null when it never ran.</summary>
    public async Task<JobProgress?> GetAsync(string job, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT node, started_at, updated_at, finished_at, outcome, done, total, detail FROM job_progress WHERE job = $1
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = job });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new JobProgress
        {
            Job = job,
            Node = reader.GetString(0),
            StartedAt = reader.GetFieldValue<DateTimeOffset>(1),
            UpdatedAt = reader.GetFieldValue<DateTimeOffset>(2),
            FinishedAt = reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3),
            Outcome = reader.IsDBNull(4) ? null : reader.GetString(4),
            Done = reader.GetInt64(5),
            Total = reader.IsDBNull(6) ? null : reader.GetInt64(6),
            Detail = reader.IsDBNull(7) ? null : reader.GetString(7),
        };
    }
}
