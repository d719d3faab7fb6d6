using FleetLicense.Migrations;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Respawn;
using Xunit;

namespace FleetLicense.Testing;

/// <summary>
/// One PostgreSQL server per test assembly (register with <c>[assembly: AssemblyFixture(typeof(PostgresFixture))]</c>).
/// The real migrations are applied once to a template database; each test gets its own database cloned from
/// it (<see cref="CreateDatabaseAsync"/>), so tests run in parallel and never see each other's rows.
/// Tests that share one database between their steps can wipe it with <see cref="ResetAsync"/> (Respawn).
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    // Unique, so assemblies sharing one external server do not fight over it.
    private readonly string _templateName = "fleetlicense_template_" + Guid.NewGuid().ToString("N")[..8];
    private readonly SemaphoreSlim _cloneLock = new(1, 1);
    private readonly HashSet<string> _created = [];
    private PostgresServer? _server;

    public PostgresServer Server => _server ?? throw new InvalidOperationException("The PostgreSQL fixture has not started.");

    public async ValueTask InitializeAsync()
    {
        _server = await PostgresServer.StartAsync();
        await ExecuteAdminAsync($"CREATE DATABASE {_templateName}");
        // No pooling: an idle pooled connection to the template would block every CREATE DATABASE ... TEMPLATE.
        var template = new NpgsqlConnectionStringBuilder(ConnectionStringFor(_templateName).Single()) { Pooling = false }.ConnectionString;
        await using var db = new DesignTimeDbContextFactory().CreateDbContext([template]);
        await db.Database.MigrateAsync();
    }

    /// <summary>A new database with every migration applied, named after the caller for easier debugging.</summary>
    public async Task<string> CreateDatabaseAsync(string? hint = null)
    {
        var name = "t_" + new string((hint ?? "").ToLowerInvariant().Where(char.IsAsciiLetterOrDigit).Take(30).ToArray()) + "_" + Guid.NewGuid().ToString("N")[..10];
        // PostgreSQL refuses to copy a template that another session is connected to, including another clone in flight.
        await _cloneLock.WaitAsync();
        try
        {
            await ExecuteAdminAsync($"CREATE DATABASE {name} TEMPLATE {_templateName}");
            _created.Add(name);
        }
        finally
        {
            _cloneLock.Release();
        }

        return ConnectionStringFor(name).Single();
    }

    /// <summary>A new database with no migration applied, for tests that migrate step by step.</summary>
    public async Task<string> CreateEmptyDatabaseAsync(string hint)
    {
        var name = $"m_{hint}_{Guid.NewGuid():N}"[..30];
        await ExecuteAdminAsync($"CREATE DATABASE {name}");
        _created.Add(name);
        return ConnectionStringFor(name).Single();
    }

    /// <summary>Deletes every row the app wrote, keeping the schema, migration history and Quartz's tables.</summary>
    public static async Task ResetAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        // A running scheduler owns its tables; wiping them under it breaks it rather than resetting it.
        var keep = new List<Respawn.Graph.Table> { "__EFMigrationsHistory" };
        await using (var quartz = new NpgsqlCommand("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name LIKE 'qrtz\\_%'", connection))
        await using (var reader = await quartz.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                keep.Add(reader.GetString(0));
            }
        }

        var respawner = await Respawner.CreateAsync(connection, new RespawnerOptions
        {
            DbAdapter = DbAdapter.Postgres,
            SchemasToInclude = ["public"],
            TablesToIgnore = [.. keep],
        });
        await respawner.ResetAsync(connection);
    }

    private string[] ConnectionStringFor(string database) =>
        [new NpgsqlConnectionStringBuilder(Server.AdminConnectionString) { Database = database, IncludeErrorDetail = true }.ConnectionString];

    private async Task ExecuteAdminAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(Server.AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        _cloneLock.Dispose();
        if (_server is not null && !_server.IsOwned)
        {
            // Leave a shared server as we found it: drop this assembly's databases.
            foreach (var name in _created.Append(_templateName))
            {
                await ExecuteAdminAsync($"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            }
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
