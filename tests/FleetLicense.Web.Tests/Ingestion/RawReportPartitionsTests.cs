using FleetLicense.Testing;
using FleetLicense.Web.Data;
using FleetLicense.Web.Features.Ingestion;
using FleetLicense.Web.Features.Policy;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace FleetLicense.Web.Tests.Ingestion;

public sealed class RawReportPartitionsTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Maintain_CreatesTheComingDaysAndDropsWhatIsPastRetention()
    {
        var connectionString = await postgres.CreateDatabaseAsync("partitions");
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 10, 12, 0, 0, TimeSpan.Zero));
        var options = new DbContextOptionsBuilder<FleetLicenseDbContext>().UseNpgsql(dataSource).UseSnakeCaseNamingConvention().Options;
        var policies = new PolicyService(new Factory(options), time, new FleetLicense.Web.Features.Live.CacheInvalidation(), new FleetLicense.Web.Features.Audit.AuditTrail(dataSource, time));
        await policies.SaveAsync(TestCallers.Admin, FleetLicense.Web.Features.Audit.AuditActions.PolicySave, new FleetPolicy { RawReportRetentionDays = 5 }, null, TestContext.Current.CancellationToken);
        var partitions = new RawReportPartitions(dataSource, policies, time);
        var old = new DateTimeOffset(2026, 3, 1, 8, 0, 0, TimeSpan.Zero);
        await ExecuteAsync(dataSource, $"CREATE TABLE {RawReportPartitions.Name(DateOnly.FromDateTime(old.UtcDateTime))} PARTITION OF raw_reports FOR VALUES FROM ('2026-03-01') TO ('2026-03-02')");
        await ExecuteAsync(dataSource, $"INSERT INTO raw_reports VALUES (gen_random_uuid(), gen_random_uuid(), '{old:O}', '{old:O}', '{{}}')");
        await ExecuteAsync(dataSource, $"INSERT INTO report_receipts VALUES (gen_random_uuid(), gen_random_uuid(), '{old:O}'), (gen_random_uuid(), gen_random_uuid(), '{time.GetUtcNow():O}')");
        await ExecuteAsync(dataSource, $"INSERT INTO job_runs (job, scheduled_at, started_at, finished_at, node, outcome) VALUES ('old', '{old.AddDays(-40):O}', '{old.AddDays(-40):O}', '{old.AddDays(-40):O}', 'n', 'Succeeded')");

        var (created, dropped) = await partitions.MaintainAsync(TestContext.Current.CancellationToken);
        var again = await partitions.MaintainAsync(TestContext.Current.CancellationToken);

        Assert.Equal((4, 1), (created, dropped));
        Assert.Equal((0, 0), again);
        Assert.Equal(["raw_reports_20260310", "raw_reports_20260311", "raw_reports_20260312", "raw_reports_20260313"],
            await ListAsync(dataSource, "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE c.relname ~ '^raw_reports_[0-9]{8}$' ORDER BY 1"));
        Assert.Equal(["1"], await ListAsync(dataSource, "SELECT count(*)::text FROM report_receipts"));
        Assert.Equal(["0"], await ListAsync(dataSource, "SELECT count(*)::text FROM job_runs"));
    }

    private static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }

    private static async Task<List<string>> ListAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        var values = new List<string>();
        while (await reader.ReadAsync(TestContext.Current.CancellationToken))
        {
            values.Add(reader.GetString(0));
        }

        return values;
    }

    private sealed class Factory(DbContextOptions<FleetLicenseDbContext> options) : IDbContextFactory<FleetLicenseDbContext>
    {
        public FleetLicenseDbContext CreateDbContext() => new(options);
    }
}
