using System.Globalization;
using FleetLicense.Web.Features.Policy;
using FleetLicense.Web.Features.Scheduling;
using Npgsql;
using Quartz;

namespace FleetLicense.Web.Features.Ingestion;

/// <summary>
/// Keeps <c>raw_reports</c> partitioned by day: creates the partitions for the coming days ahead of time and
/// drops those past the policy's retention (dropping a partition is instant, unlike deleting rows). Receipts
/// older than the retention go too: a retry that late is treated as a new report. The job-run log is pruned here.
/// </summary>
public sealed class RawReportPartitions(NpgsqlDataSource dataSource, PolicyService policies, TimeProvider time)
{
    private const int DaysAhead = 3;
    private const int JobRunRetentionDays = 30;

    public async Task<(int Created, int Dropped)> MaintainAsync(CancellationToken cancellationToken)
    {
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        var retention = (await policies.GetCurrentAsync(cancellationToken)).Policy.RawReportRetentionDays;
        var cutoff = today.AddDays(-retention);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var existing = await PartitionsAsync(connection, cancellationToken);

        var created = 0;
        for (var day = today; day <= today.AddDays(DaysAhead); day = day.AddDays(1))
        {
            if (existing.ContainsKey(Name(day)))
            {
                continue;
            }

            await using var create = new NpgsqlCommand(
                $"CREATE TABLE IF NOT EXISTS {Name(day)} PARTITION OF raw_reports FOR VALUES FROM ('{day:yyyy-MM-dd}') TO ('{day.AddDays(1):yyyy-MM-dd}')", connection);
            try
            {
                await create.ExecuteNonQueryAsync(cancellationToken);
                created++;
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.CheckViolation)
            {
                // Rows for that day already landed in the default partition; they stay there until retention removes them.
            }
        }

        var dropped = 0;
        foreach (var (name, day) in existing.Where(p => p.Value < cutoff))
        {
            await using var drop = new NpgsqlCommand($"DROP TABLE IF EXISTS {name}", connection);
            await drop.ExecuteNonQueryAsync(cancellationToken);
            dropped++;
        }

        var cutoffTime = new DateTimeOffset(cutoff.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        await using (var purge = new NpgsqlCommand("DELETE FROM raw_reports_default WHERE received_at < $1", connection))
        {
            purge.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = cutoffTime });
            await purge.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var receipts = new NpgsqlCommand("DELETE FROM report_receipts WHERE received_at < $1", connection))
        {
            receipts.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = cutoffTime });
            await receipts.ExecuteNonQueryAsync(cancellationToken);
        }

        // The job-run log (a row per firing of every job) is for recent troubleshooting: a month is enough.
        await using (var runs = new NpgsqlCommand("DELETE FROM job_runs WHERE started_at < $1", connection))
        {
            runs.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = time.GetUtcNow().AddDays(-JobRunRetentionDays) });
            await runs.ExecuteNonQueryAsync(cancellationToken);
        }

        return (created, dropped);
    }

    public static string Name(DateOnly day) => "raw_reports_" + day.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    private static async Task<Dictionary<string, DateOnly>> PartitionsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
            WHERE p.relname = 'raw_reports' AND c.relname ~ '^raw_reports_[0-9]{8}$'
            """, connection);
        var partitions = new Dictionary<string, DateOnly>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var name = reader.GetString(0);
            partitions[name] = DateOnly.ParseExact(name["raw_reports_".Length..], "yyyyMMdd", CultureInfo.InvariantCulture);
        }

        return partitions;
    }
}

/// <summary>Partition upkeep and raw-report retention, hourly and at start, on one node of the cluster.</summary>
[DisallowConcurrentExecution]
public sealed class RawReportPartitionsJob(RawReportPartitions partitions, JobRunServices services) : FleetJob(services)
{
    public static readonly JobKey Key = new("raw-report-partitions", "ingestion");

    protected override async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        var (created, dropped) = await partitions.MaintainAsync(cancellationToken);
        return $"{created} partition(s) created, {dropped} dropped past retention";
    }
}
