using FleetLicense.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql;

namespace FleetLicense.Migrations.Tests;

/// <summary>The MachineLivenessTable migration moves the per-report columns out of <c>machines</c> and back, losing nothing.</summary>
public sealed class MachineLivenessMigrationTests(PostgresFixture postgres)
{
    private const string Before = "20261203001359_FlagChangesAndAlertCursor";
    private const string Liveness = "20261203065713_MachineLivenessTable";

    [Fact]
    public async Task MachineLivenessTable_UpAndDown_KeepsEveryMachinesLastSeenCollectedAndReport()
    {
        var ct = TestContext.Current.CancellationToken;
        var connectionString = await postgres.CreateEmptyDatabaseAsync("liveness");
        await using var db = new DesignTimeDbContextFactory().CreateDbContext([connectionString]);
        var migrator = db.GetService<IMigrator>();
        await migrator.MigrateAsync(Before, cancellationToken: ct);
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        // A machine that reported, and one that enrolled and never did.
        await ExecuteAsync(dataSource, """
            INSERT INTO machines (id, identity_key, hostname, token_hash, token_issued_at, enrolled_at, last_seen_at, last_collected_at, last_report_id) VALUES
              ('00000000-0000-0000-0000-0000000000a1', 'host:a', 'A', '\x01', now(), '2026-11-01Z', '2026-12-01T10:00:00Z', '2026-12-01T09:59:00Z', '00000000-0000-0000-0000-00000000beef'),
              ('00000000-0000-0000-0000-0000000000a2', 'host:b', 'B', '\x02', now(), '2026-11-02Z', NULL, NULL, NULL)
            """, ct);
        var before = await RowsAsync(dataSource, "SELECT id, last_seen_at, last_collected_at, last_report_id FROM machines ORDER BY id", ct);

        await migrator.MigrateAsync(Liveness, cancellationToken: ct);

        Assert.Equal(before, await RowsAsync(dataSource, "SELECT machine_id, last_seen_at, last_collected_at, last_report_id FROM machine_liveness ORDER BY machine_id", ct));
        Assert.Empty(await RowsAsync(dataSource, "SELECT column_name FROM information_schema.columns WHERE table_name = 'machines' AND column_name LIKE 'last_%'", ct));

        await migrator.MigrateAsync(Before, cancellationToken: ct);

        Assert.Equal(before, await RowsAsync(dataSource, "SELECT id, last_seen_at, last_collected_at, last_report_id FROM machines ORDER BY id", ct));
    }

    private static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync(ct);
    }

    private static async Task<List<string>> RowsAsync(NpgsqlDataSource dataSource, string sql, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var rows = new List<string>();
        while (await reader.ReadAsync(ct))
        {
            rows.Add(string.Join('|', Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "null" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))));
        }

        return rows;
    }
}
