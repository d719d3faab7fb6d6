using FleetLicense.Migrations;
using FleetLicense.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql;

namespace FleetLicense.Migrations.Tests;

public sealed class MigrationTests(PostgresFixture postgres)
{
    private static readonly string[] AppTables = ["cluster_nodes", "data_protection_keys"];

    private static readonly string[] QuartzTables =
        ["qrtz_job_details", "qrtz_triggers", "qrtz_simple_triggers", "qrtz_cron_triggers", "qrtz_fired_triggers", "qrtz_locks", "qrtz_scheduler_state"];

    [Fact]
    public async Task Migrate_WhenDatabaseIsEmpty_CreatesAppAndQuartzTables()
    {
        var connectionString = await postgres.CreateEmptyDatabaseAsync("empty");
        await using var db = new DesignTimeDbContextFactory().CreateDbContext([connectionString]);

        await db.Database.MigrateAsync(TestContext.Current.CancellationToken);

        Assert.Empty(await db.Database.GetPendingMigrationsAsync(TestContext.Current.CancellationToken));
        var tables = await TablesAsync(connectionString);
        Assert.All(AppTables.Concat(QuartzTables), t => Assert.Contains(t, tables));
    }

    [Fact]
    public async Task Migrate_WhenRolledBackToZero_RemovesEveryTable()
    {
        var connectionString = await postgres.CreateEmptyDatabaseAsync("rollback");
        await using var db = new DesignTimeDbContextFactory().CreateDbContext([connectionString]);
        await db.Database.MigrateAsync(TestContext.Current.CancellationToken);

        await db.GetService<IMigrator>().MigrateAsync(Migration.InitialDatabase, cancellationToken: TestContext.Current.CancellationToken);

        var tables = await TablesAsync(connectionString);
        Assert.Equal(["__EFMigrationsHistory"], tables);
    }

    [Fact]
    public void Model_WhenComparedWithLastMigration_HasNoPendingChanges()
    {
        using var db = new DesignTimeDbContextFactory().CreateDbContext([]);

        Assert.False(db.Database.HasPendingModelChanges(), "Run 'dotnet ef migrations add' for the model changes.");
    }

    private static async Task<List<string>> TablesAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1", connection);
        await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        var tables = new List<string>();
        while (await reader.ReadAsync(TestContext.Current.CancellationToken))
        {
            tables.Add(reader.GetString(0));
        }

        return tables;
    }
}
